// The kernel side of "no exception crosses the C ABI": host functions run
// their C++ body through guarded(), which turns an exception into TS_ERROR
// and a one-line ts_error.
#pragma once

#include <tessera/abi.h>

#include <algorithm>
#include <cstring>
#include <exception>
#include <string_view>

namespace tessera {

inline void set_abi_error(ts_error *err, std::string_view msg) {
    if (!err) return;
    size_t n = std::min(msg.size(), sizeof(err->message) - 1);
    std::memcpy(err->message, msg.data(), n);
    err->message[n] = 0;
}

template <class F>
ts_status guarded(ts_error *err, F &&f) noexcept {
    try {
        f();
        return TS_OK;
    } catch (const std::exception &e) {
        set_abi_error(err, e.what());
    } catch (...) {
        set_abi_error(err, "unknown error");
    }
    return TS_ERROR;
}

}  // namespace tessera
