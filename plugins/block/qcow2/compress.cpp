#include "compress.hpp"

#include <zlib.h>
#include <zstd.h>

#include <memory>

namespace qcow2 {

namespace {

// The reference writes raw deflate with a 4 KiB window.
void inflate_raw(std::span<const uint8_t> in, std::span<uint8_t> out) {
    z_stream s{};
    if (inflateInit2(&s, -12) != Z_OK) throw Error("qcow2: zlib initialisation failed");
    s.next_in = const_cast<Bytef *>(in.data());
    s.avail_in = uInt(in.size());
    s.next_out = out.data();
    s.avail_out = uInt(out.size());
    int r = inflate(&s, Z_FINISH);
    bool ok = (r == Z_STREAM_END || r == Z_BUF_ERROR) && s.avail_out == 0;
    inflateEnd(&s);
    if (!ok) throw Error("qcow2: compressed cluster does not decompress (zlib)");
}

void unzstd(std::span<const uint8_t> in, std::span<uint8_t> out) {
    std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> ctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
    if (!ctx) throw Error("qcow2: zstd initialisation failed");
    ZSTD_inBuffer ib{in.data(), in.size(), 0};
    ZSTD_outBuffer ob{out.data(), out.size(), 0};
    // The compressed size is rounded up to sectors: stop once the cluster
    // is full, whatever follows.
    while (ob.pos < ob.size) {
        size_t r = ZSTD_decompressStream(ctx.get(), &ob, &ib);
        if (ZSTD_isError(r)) throw Error(std::string("qcow2: compressed cluster does not decompress (zstd: ") +
                                         ZSTD_getErrorName(r) + ")");
        if (ob.pos < ob.size && ib.pos == ib.size)
            throw Error("qcow2: compressed cluster is truncated (zstd)");
    }
}

}  // namespace

void decompress(Compression type, std::span<const uint8_t> in, std::span<uint8_t> out) {
    if (type == Compression::Zstd) unzstd(in, out);
    else inflate_raw(in, out);
}

}  // namespace qcow2
