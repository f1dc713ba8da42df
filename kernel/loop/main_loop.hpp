// The kernel's main loop: one per process, a glib GMainContext (the default
// one, so glib sources added by anyone are served) iterated by hand so that
// the BQL is held while any callback is dispatched and dropped while polling.
// Timers (timer.hpp) and bottom halves are served by the loop too.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

typedef struct _GMainContext GMainContext;
typedef struct _GSource GSource;

namespace tessera {

using BhCallback = void (*)(void *opaque);
using FdCallback = void (*)(void *opaque, int fd);

struct Bh;  // a bottom half: a callback scheduled to run once on the loop

// A terminating signal as delivered (SA_SIGINFO): who sent it.
struct SignalEvent {
    int signo = 0;
    pid_t pid = 0;  // 0 when sent by the terminal or the kernel itself
};

// "terminating on signal 15 from pid 42 (bash)", or "terminating on signal 2"
// when pid is 0, as the reference words it (the caller adds the program
// prefix).
std::string termination_message(const SignalEvent &ev);

class MainLoop {
public:
    static MainLoop &instance();

    // Dispatch until quit(). Takes the BQL itself: the caller must not hold it.
    void run();
    // One poll and dispatch round, waiting at most timeout_ns (-1: no limit)
    // for something to happen. Takes the BQL like run().
    void iterate(int64_t timeout_ns);
    // Make run() return. Thread-safe and async-signal-safe.
    void quit();
    // Wake the poll so that timeouts are recomputed. Thread-safe.
    void wakeup();

    // Bottom halves. bh_schedule is thread-safe; the callback runs once per
    // schedule (several schedules before it runs coalesce), BQL held.
    Bh *bh_new(BhCallback cb, void *opaque);
    void bh_schedule(Bh *bh);
    void bh_cancel(Bh *bh);
    void bh_free(Bh *bh);

    // Watch fd: on_read when readable (or hung up / in error), on_write when
    // writable. Both null removes the handler. Replaces any earlier handler.
    void set_fd_handler(int fd, FdCallback on_read, FdCallback on_write, void *opaque);
    bool has_fd_handler(int fd) const;

    // SIGINT, SIGTERM and SIGHUP run callback on the loop (BQL held), with the
    // sender's pid. Also ignores SIGPIPE so a closed peer is a write error.
    void install_termination_signals(std::function<void(const SignalEvent &)> callback);

    GMainContext *context() const { return ctx_; }

    MainLoop(const MainLoop &) = delete;
    MainLoop &operator=(const MainLoop &) = delete;

private:
    MainLoop();
    ~MainLoop();

    struct FdEntry {
        GSource *source = nullptr;
        FdCallback on_read = nullptr;
        FdCallback on_write = nullptr;
        void *opaque = nullptr;
    };

    void iterate_locked(int64_t timeout_ns);
    bool run_bhs();
    void dispatch_fd(int fd, unsigned condition);
    void drain_self_pipe();
    static int fd_source_cb(int fd, unsigned condition, void *self);

    GMainContext *ctx_;
    std::vector<unsigned char> pollfds_;  // GPollFD array, kept between rounds
    int self_pipe_[2] = {-1, -1};
    std::atomic<bool> quit_{false};
    std::atomic<bool> wake_pending_{false};

    mutable std::mutex fd_lock_;
    std::map<int, FdEntry> fds_;

    std::mutex bh_lock_;
    std::vector<std::unique_ptr<Bh>> bhs_;
    std::atomic<bool> bh_pending_{false};

    std::function<void(const SignalEvent &)> on_signal_;
};

// Shorthands for the single instance.
inline MainLoop &main_loop() { return MainLoop::instance(); }

}  // namespace tessera
