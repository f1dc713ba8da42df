// The gdb remote serial protocol's framing: "$payload#cs" packets with
// '}'-escaping, '+'/'-' acknowledgements and the 0x03 interrupt byte.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tessera {

// What the reader found in the byte stream, in order.
struct GdbInput {
    enum class Kind { Packet, BadChecksum, Ack, Nack, Interrupt };
    Kind kind;
    std::string payload;  // Packet: unescaped
};

// Splits incoming bytes into packets and control bytes. Junk between
// packets is ignored; a packet longer than the limit is dropped (Nack).
class GdbPacketReader {
public:
    explicit GdbPacketReader(size_t max_payload = 0x4000) : max_(max_payload) {}
    std::vector<GdbInput> feed(std::string_view bytes);

private:
    enum class State { Idle, Payload, Escape, Sum1, Sum2 };
    State state_ = State::Idle;
    std::string payload_;
    uint8_t sum_ = 0, want_ = 0;
    bool overflow_ = false;
    size_t max_;
};

// "$" + escaped payload + "#" + two hex digits.
std::string gdb_frame(std::string_view payload);
// Escapes '#', '$', '}' and '*' as gdb's binary data wants.
std::string gdb_escape_binary(std::string_view data);

// Hex helpers (lower case out, either case in).
std::string to_hex(std::span<const uint8_t> bytes);
std::string to_hex(std::string_view text);
// Whole string must be hex digits of even count; nullopt otherwise.
std::optional<std::vector<uint8_t>> from_hex(std::string_view hex);
// A hex number (no prefix); nullopt on junk or overflow.
std::optional<uint64_t> parse_hex(std::string_view s);

}  // namespace tessera
