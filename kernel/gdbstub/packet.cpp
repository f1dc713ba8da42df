#include "gdbstub/packet.hpp"

namespace tessera {

namespace {

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

constexpr char kHex[] = "0123456789abcdef";

}  // namespace

std::vector<GdbInput> GdbPacketReader::feed(std::string_view bytes) {
    std::vector<GdbInput> out;
    for (char c : bytes) {
        switch (state_) {
        case State::Idle:
            if (c == '$') {
                state_ = State::Payload;
                payload_.clear();
                sum_ = 0;
                overflow_ = false;
            } else if (c == '+') {
                out.push_back({GdbInput::Kind::Ack, {}});
            } else if (c == '-') {
                out.push_back({GdbInput::Kind::Nack, {}});
            } else if (c == 0x03) {
                out.push_back({GdbInput::Kind::Interrupt, {}});
            }
            break;
        case State::Payload:
        case State::Escape:
            if (c == '#' && state_ == State::Payload) {
                state_ = State::Sum1;
                break;
            }
            sum_ = uint8_t(sum_ + uint8_t(c));
            if (state_ == State::Escape) {
                c = char(c ^ 0x20);
                state_ = State::Payload;
            } else if (c == '}') {
                state_ = State::Escape;
                break;
            }
            if (payload_.size() < max_) payload_ += c;
            else overflow_ = true;
            break;
        case State::Sum1:
        case State::Sum2: {
            int d = hex_digit(c);
            if (d < 0) {  // not a checksum: resynchronise on the next '$'
                state_ = State::Idle;
                out.push_back({GdbInput::Kind::BadChecksum, {}});
                break;
            }
            if (state_ == State::Sum1) {
                want_ = uint8_t(d << 4);
                state_ = State::Sum2;
                break;
            }
            want_ = uint8_t(want_ | d);
            state_ = State::Idle;
            if (want_ != sum_ || overflow_) out.push_back({GdbInput::Kind::BadChecksum, {}});
            else out.push_back({GdbInput::Kind::Packet, std::move(payload_)});
            payload_.clear();
            break;
        }
        }
    }
    return out;
}

std::string gdb_escape_binary(std::string_view data) {
    std::string out;
    out.reserve(data.size());
    for (char c : data) {
        if (c == '#' || c == '$' || c == '}' || c == '*') {
            out += '}';
            out += char(c ^ 0x20);
        } else {
            out += c;
        }
    }
    return out;
}

std::string gdb_frame(std::string_view payload) {
    std::string body = gdb_escape_binary(payload);
    uint8_t sum = 0;
    for (char c : body) sum = uint8_t(sum + uint8_t(c));
    std::string out = "$" + body + "#";
    out += kHex[sum >> 4];
    out += kHex[sum & 15];
    return out;
}

std::string to_hex(std::span<const uint8_t> bytes) {
    std::string out;
    out.reserve(bytes.size() * 2);
    for (uint8_t b : bytes) {
        out += kHex[b >> 4];
        out += kHex[b & 15];
    }
    return out;
}

std::string to_hex(std::string_view text) {
    return to_hex(std::span(reinterpret_cast<const uint8_t *>(text.data()), text.size()));
}

std::optional<std::vector<uint8_t>> from_hex(std::string_view hex) {
    if (hex.size() % 2) return std::nullopt;
    std::vector<uint8_t> out(hex.size() / 2);
    for (size_t i = 0; i < out.size(); i++) {
        int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out[i] = uint8_t(hi << 4 | lo);
    }
    return out;
}

std::optional<uint64_t> parse_hex(std::string_view s) {
    if (s.empty() || s.size() > 16) return std::nullopt;
    uint64_t v = 0;
    for (char c : s) {
        int d = hex_digit(c);
        if (d < 0) return std::nullopt;
        v = v << 4 | uint64_t(d);
    }
    return v;
}

}  // namespace tessera
