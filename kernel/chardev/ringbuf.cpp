#include "chardev/ringbuf.hpp"

#include "chardev/backends.hpp"

#include <vector>

namespace tessera {
namespace {

// Keeps the last size bytes written; size is a power of two so positions
// wrap with a mask.
class RingbufChardev : public Chardev {
public:
    RingbufChardev(std::string id, size_t size) : Chardev(std::move(id)), buf_(size) { set_open(true); }
    std::string_view kind() const override { return "ringbuf"; }

    std::string read(size_t n)
    {
        n = std::min<uint64_t>(n, prod_ - cons_);
        std::string out;
        out.reserve(n);
        for (size_t i = 0; i < n; i++)
            out.push_back(char(buf_[cons_++ & (buf_.size() - 1)]));
        return out;
    }
    size_t put(std::span<const uint8_t> data)
    {
        for (uint8_t b : data) {
            buf_[prod_++ & (buf_.size() - 1)] = b;
            if (prod_ - cons_ > buf_.size())
                cons_++;  // overwrite the oldest
        }
        return data.size();
    }

protected:
    size_t backend_write(std::span<const uint8_t> data) override { return put(data); }

private:
    std::vector<uint8_t> buf_;
    uint64_t prod_ = 0, cons_ = 0;
};

RingbufChardev &as_ringbuf(Chardev &chr)
{
    auto *rb = dynamic_cast<RingbufChardev *>(&chr);
    if (!rb)
        throw UsageError(chr.id() + " is not a ringbuf device");
    return *rb;
}

}  // namespace

ChardevPtr make_ringbuf_chardev(const std::string &id, const KeyVals &opts)
{
    uint64_t size = opts.has("size") ? parse_size(opts.get("size")) : 65536;
    if (size == 0 || (size & (size - 1)) != 0)
        throw UsageError("size of ringbuf chardev must be power of two");
    return std::make_unique<RingbufChardev>(id, size_t(size));
}

std::string chardev_ringbuf_read(Chardev &chr, size_t n) { return as_ringbuf(chr).read(n); }

void chardev_ringbuf_write(Chardev &chr, std::span<const uint8_t> data) { as_ringbuf(chr).put(data); }

}  // namespace tessera
