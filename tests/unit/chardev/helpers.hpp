// Shared by the chardev tests: a front end that records what it gets, and
// loop spinning with a deadline so that no test can hang.
#pragma once

#include "chardev/chardev.hpp"
#include "loop/main_loop.hpp"

#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

namespace tessera::test {

struct Recorder {
    std::string got;
    std::vector<ChrEvent> events;
    size_t room = SIZE_MAX;  // what can_receive answers

    ChrHandlers handlers()
    {
        return {[this] { return room == SIZE_MAX ? size_t(4096) : room; },
                [this](std::span<const uint8_t> d) {
                    got.append(reinterpret_cast<const char *>(d.data()), d.size());
                    if (room != SIZE_MAX)
                        room -= std::min(room, d.size());
                },
                [this](ChrEvent e) { events.push_back(e); }};
    }
    bool saw(ChrEvent e) const { return std::find(events.begin(), events.end(), e) != events.end(); }
};

template <class Pred>
bool spin_until(Pred pred, std::chrono::milliseconds limit = std::chrono::milliseconds(3000))
{
    auto end = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > end)
            return false;
        main_loop().iterate(10'000'000);
    }
    return true;
}

inline void spin_for(std::chrono::milliseconds d)
{
    auto end = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < end)
        main_loop().iterate(5'000'000);
}

// Read from fd until `want` bytes arrived or 3 s passed.
inline std::string read_some(int fd, size_t want)
{
    std::string out;
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (out.size() < want && std::chrono::steady_clock::now() < end) {
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, 50) == 1 && (p.revents & POLLIN)) {
            char buf[256];
            ssize_t n = ::read(fd, buf, sizeof buf);
            if (n <= 0)
                break;
            out.append(buf, size_t(n));
        }
    }
    return out;
}

inline std::span<const uint8_t> bytes(std::string_view s)
{
    return {reinterpret_cast<const uint8_t *>(s.data()), s.size()};
}

}  // namespace tessera::test
