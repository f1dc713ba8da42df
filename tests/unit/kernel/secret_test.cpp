#include "secrets/secret.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <unistd.h>

using namespace tessera;

TEST(Secret, DataFileAndBase64) {
    secret_add(parse_keyval("qom-type=secret,id=a,data=letmein", "", false));
    EXPECT_EQ(secret_lookup("a"), "letmein");
    secret_add(parse_keyval("qom-type=secret,id=b,data=cGFzcw==,format=base64", "", false));
    EXPECT_EQ(secret_lookup("b"), "pass");
    char path[] = "/tmp/tessera-secret-XXXXXX";
    close(mkstemp(path));
    std::ofstream(path) << "fromfile";
    secret_add(parse_keyval(std::string("qom-type=secret,id=c,file=") + path, "", false));
    std::remove(path);
    EXPECT_EQ(secret_lookup("c"), "fromfile");
    EXPECT_EQ(secret_lookup("nope"), std::nullopt);
}

TEST(Secret, Errors) {
    EXPECT_THROW(secret_add(parse_keyval("qom-type=secret,id=d", "", false)), UsageError);
    EXPECT_THROW(secret_add(parse_keyval("qom-type=secret,id=d,data=x,file=y", "", false)), UsageError);
    EXPECT_THROW(secret_add(parse_keyval("qom-type=secret,id=d,data=*,format=base64", "", false)), UsageError);
    EXPECT_THROW(secret_add(parse_keyval("qom-type=secret,id=d,data=x,format=hex", "", false)), UsageError);
    EXPECT_THROW(secret_add(parse_keyval("qom-type=secret,id=d,file=/nonexistent", "", false)), UsageError);
    EXPECT_THROW(secret_add(parse_keyval("qom-type=secret,id=d,data=x,keyid=k", "", false)), UsageError);
}
