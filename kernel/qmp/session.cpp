#include "qmp/session.hpp"

#include <sys/time.h>

#include <utility>

#ifndef TESSERA_VERSION
#define TESSERA_VERSION "0.0.0"
#endif

namespace tessera {

namespace {

// The reference's words for requests that are not commands.
QmpError input_error(std::string desc) { return {"GenericError", std::move(desc)}; }

// Checks the request's envelope; returns the command name.
std::string_view check_envelope(const Json &req, bool &oob) {
    if (!req.is_object()) throw input_error("QMP input must be a JSON object");
    const Json *exec = nullptr;
    for (const auto &[key, value] : req.as_object()) {
        if (key == "execute" || key == "exec-oob") {
            if (!value.is_string()) throw input_error("QMP input member '" + key + "' must be a string");
            exec = &value;
            oob = key == "exec-oob";
        } else if (key == "arguments") {
            if (!value.is_object()) throw input_error("QMP input member 'arguments' must be an object");
        } else if (key != "id") {
            throw input_error("QMP input member '" + key + "' is unexpected");
        }
    }
    if (!exec) throw input_error("QMP input lacks member 'execute'");
    return exec->as_string();
}

}  // namespace

Json qmp_timestamp() {
    timeval tv{};
    gettimeofday(&tv, nullptr);
    return Json::Object{{"seconds", int64_t(tv.tv_sec)}, {"microseconds", int64_t(tv.tv_usec)}};
}

Json qmp_greeting() {
    // 7.2.0: new enough for libvirt (>= 4.2), and the schema we describe
    // matches what that release offers for the commands we have.
    Json version = Json::Object{{"qemu", Json::Object{{"micro", 0}, {"minor", 2}, {"major", 7}}},
                                {"package", "tessera " TESSERA_VERSION}};
    return Json::Object{{"QMP", Json::Object{{"version", version}, {"capabilities", Json::Array{"oob"}}}}};
}

Json qmp_error_reply(const QmpError &e, const Json *id) {
    Json r = Json::Object{{"error", Json::Object{{"class", e.cls}, {"desc", e.desc}}}};
    if (id) r.set("id", *id);
    return r;
}

QmpSession::QmpSession(Io io, bool pretty) : io_(std::move(io)), pretty_(pretty) {}

void QmpSession::send(const Json &message) {
    // The reference ends every message, and every line of a pretty one, with CRLF.
    std::string text = pretty_ ? to_json_pretty(message) : to_json(message);
    std::string out;
    out.reserve(text.size() + 8);
    for (char c : text) {
        if (c == '\n') out += '\r';
        out += c;
    }
    out += "\r\n";
    io_.write(out);
}

void QmpSession::greet() {
    negotiated_ = false;
    splitter_.reset();
    pending_bytes_ = 0;
    send(qmp_greeting());
}

void QmpSession::event(const Json &message) {
    if (negotiated_) send(message);
}

void QmpSession::run_after_reply() {
    auto work = std::exchange(after_, {});
    for (auto &w : work) w();
}

Json QmpSession::handle(const Json &req) {
    const Json *id = req.is_object() ? req.find("id") : nullptr;
    try {
        bool oob = false;
        std::string_view name = check_envelope(req, oob);
        if (!negotiated_ && name != "qmp_capabilities")
            throw QmpError{"CommandNotFound", "Expecting capabilities negotiation with 'qmp_capabilities'"};
        if (negotiated_ && name == "qmp_capabilities")
            throw QmpError{"CommandNotFound", "Capabilities negotiation is already complete, command ignored"};
        if (!qmp_command_exists(name))
            throw QmpError{"CommandNotFound", "The command " + std::string(name) + " has not been found"};
        if (oob) throw input_error("The command " + std::string(name) + " does not support OOB");
        static const Json kNoArgs = Json::object();
        const Json *args = req.find("arguments");
        QmpCall call{args ? *args : kNoArgs, after_};
        Json ret = qmp_run_command(name, call.args, call);
        if (name == "qmp_capabilities") negotiated_ = true;
        Json reply = Json::Object{{"return", std::move(ret)}};
        if (id) reply.set("id", *id);
        return reply;
    } catch (const QmpError &e) {
        return qmp_error_reply(e, id);
    } catch (const UsageError &e) {
        // Kernel helpers (qom, chardev, ...) speak UsageError.
        return qmp_error_reply({"GenericError", e.what()}, id);
    }
}

void QmpSession::input(std::string_view bytes) {
    // Feed in slices so that an endless value is caught near the cap
    // rather than after a huge read has been buffered.
    while (!bytes.empty()) {
        std::string_view chunk = bytes.substr(0, 4096);
        bytes.remove_prefix(chunk.size());
        std::vector<std::string> texts = splitter_.feed(chunk);
        pending_bytes_ = splitter_.pending() ? pending_bytes_ + chunk.size() : 0;
        for (const auto &text : texts) {
            Json reply;
            try {
                reply = handle(parse_json(text));
            } catch (const UsageError &e) {
                // "JSON parse error at ..., column C: what" -> the reference's shape.
                std::string m = e.what();
                if (m.starts_with("JSON parse error")) m = "JSON parse error, " + m.substr(m.find(':') + 2);
                reply = qmp_error_reply({"GenericError", m});
            }
            send(reply);
            run_after_reply();
        }
        if (pending_bytes_ > kQmpMaxRequest) {
            send(qmp_error_reply({"GenericError", "JSON token size limit exceeded (" +
                                                      std::to_string(kQmpMaxRequest) + " bytes)"}));
            splitter_.reset();
            pending_bytes_ = 0;
            if (io_.close) {
                io_.close();
                return;
            }
        }
    }
}

}  // namespace tessera
