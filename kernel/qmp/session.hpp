// One QMP conversation, independent of its transport: bytes in, JSON texts
// out. Greeting, capabilities negotiation, request checking and dispatch,
// replies with the request's id, events once negotiated.
#pragma once

#include "options/json.hpp"

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace tessera {

// A command failure in the reference's shape: {"class": ..., "desc": ...}.
struct QmpError {
    std::string cls = "GenericError";
    std::string desc;
};

// Largest request accepted; a client that sends more without completing a
// JSON value is answered with an error and dropped.
inline constexpr size_t kQmpMaxRequest = 1 << 20;

class QmpSession {
public:
    struct Io {
        std::function<void(std::string_view)> write;  // one complete message
        std::function<void()> close;                  // drop the client (may be empty)
    };
    QmpSession(Io io, bool pretty);

    // Starts (or restarts, after a reconnect) the conversation.
    void greet();
    // Bytes from the client; complete requests run at once.
    void input(std::string_view bytes);
    // Sends an event message if negotiation is complete.
    void event(const Json &message);
    bool negotiated() const { return negotiated_; }
    // Runs one request (already parsed) and returns the reply; also used by
    // unit tests. Work queued with after_reply() runs after the caller wrote it.
    Json handle(const Json &request);
    void run_after_reply();

private:
    void send(const Json &message);
    Io io_;
    bool pretty_;
    bool negotiated_ = false;
    JsonSplitter splitter_;
    size_t pending_bytes_ = 0;
    std::vector<std::function<void()>> after_;
};

// The greeting every client gets first.
Json qmp_greeting();
// {"error": {"class": cls, "desc": desc}} (plus "id" when given).
Json qmp_error_reply(const QmpError &e, const Json *id = nullptr);

// --- The command table (commands.cpp) ---
struct QmpCall {
    const Json &args;
    // Work to do once the reply is out (events that must follow it).
    std::vector<std::function<void()>> &after_reply;
};
// Looks the command up, checks args against its declaration and runs it.
// Throws QmpError.
Json qmp_run_command(std::string_view name, const Json &args, QmpCall &call);
bool qmp_command_exists(std::string_view name);
// query-qmp-schema's answer.
Json qmp_schema();

// The current time as the reference's event timestamp.
Json qmp_timestamp();

}  // namespace tessera
