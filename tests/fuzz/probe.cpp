// Configure-time check: does clang++ link a libFuzzer target?
extern "C" int LLVMFuzzerTestOneInput(const unsigned char *, unsigned long) { return 0; }
