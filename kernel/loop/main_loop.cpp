#include "loop/main_loop.hpp"

#include "loop/bql.hpp"
#include "loop/timer.hpp"

#include <fcntl.h>
#include <glib-unix.h>
#include <glib.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <system_error>

namespace tessera {

struct Bh {
    BhCallback cb;
    void *opaque;
    std::atomic<bool> scheduled{false};
    std::atomic<bool> deleted{false};
};

namespace {

static_assert(sizeof(GPollFD) == sizeof(pollfd), "glib's GPollFD must be a struct pollfd");

// What the signal handler and quit() write to the self-pipe: one atomic
// record each (smaller than PIPE_BUF).
struct PipeRecord {
    int32_t signo;  // 0: quit/wakeup only
    int32_t pid;
};

std::atomic<int> g_self_pipe_wr{-1};

void write_record(PipeRecord r)
{
    int fd = g_self_pipe_wr.load(std::memory_order_relaxed);
    if (fd < 0)
        return;
    int saved = errno;
    // A full pipe already guarantees a wakeup: dropping is fine.
    [[maybe_unused]] ssize_t n = write(fd, &r, sizeof r);
    errno = saved;
}

void termination_handler(int signo, siginfo_t *info, void *)
{
    write_record({signo, info ? int32_t(info->si_pid) : 0});
}

void wake_default() { MainLoop::instance().wakeup(); }

}  // namespace

std::string termination_message(const SignalEvent &ev)
{
    std::string msg = "terminating on signal " + std::to_string(ev.signo);
    if (ev.pid == 0)
        return msg;
    // The reference names the sender by its command line's first word.
    std::string cmd;
    std::ifstream in("/proc/" + std::to_string(ev.pid) + "/cmdline", std::ios::binary);
    if (!in || !std::getline(in, cmd, '\0') || cmd.empty())
        cmd = "<unknown process>";
    return msg + " from pid " + std::to_string(ev.pid) + " (" + cmd + ")";
}

MainLoop &MainLoop::instance()
{
    static MainLoop loop;
    return loop;
}

MainLoop::MainLoop() : ctx_(g_main_context_ref(g_main_context_default()))
{
    if (pipe2(self_pipe_, O_NONBLOCK | O_CLOEXEC) != 0)
        throw std::system_error(errno, std::generic_category(), "main loop self-pipe");
    g_self_pipe_wr.store(self_pipe_[1]);
    set_fd_handler(self_pipe_[0],
                   [](void *self, int) { static_cast<MainLoop *>(self)->drain_self_pipe(); },
                   nullptr, this);
    timers_set_notify(&wake_default);
}

MainLoop::~MainLoop()
{
    timers_set_notify(nullptr);
    g_self_pipe_wr.store(-1);
    set_fd_handler(self_pipe_[0], nullptr, nullptr, nullptr);
    close(self_pipe_[0]);
    close(self_pipe_[1]);
    g_main_context_unref(ctx_);
}

void MainLoop::run()
{
    BqlGuard bql;
    while (!quit_.exchange(false))
        iterate_locked(-1);
}

void MainLoop::iterate(int64_t timeout_ns)
{
    BqlGuard bql;
    iterate_locked(timeout_ns);
}

void MainLoop::quit()
{
    quit_.store(true);
    write_record({0, 0});
}

void MainLoop::wakeup()
{
    // Our own pipe rather than g_main_context_wakeup(): glib only signals a
    // context it saw enter its own poll, and we poll by hand.
    if (!wake_pending_.exchange(true))
        write_record({0, 0});
}

void MainLoop::iterate_locked(int64_t timeout_ns)
{
    if (!g_main_context_acquire(ctx_))
        throw std::logic_error("main loop iterated from two threads");
    gint max_prio = 0;
    g_main_context_prepare(ctx_, &max_prio);
    gint glib_timeout = -1;
    gint n;
    for (;;) {
        auto *fds = reinterpret_cast<GPollFD *>(pollfds_.data());
        gint room = gint(pollfds_.size() / sizeof(GPollFD));
        n = g_main_context_query(ctx_, max_prio, &glib_timeout, fds, room);
        if (n <= room)
            break;
        pollfds_.resize(size_t(n) * sizeof(GPollFD));
    }

    // Sampled after query: a later bh_schedule/timer_mod wakes the poll.
    auto shorter = [](int64_t a, int64_t b) { return a < 0 ? b : b < 0 ? a : std::min(a, b); };
    int64_t wait = shorter(timeout_ns, glib_timeout < 0 ? -1 : int64_t(glib_timeout) * 1'000'000);
    wait = shorter(wait, timers_timeout_ns());
    if (bh_pending_.load() || quit_.load())
        wait = 0;

    timespec ts{wait / 1'000'000'000, wait % 1'000'000'000};
    auto *fds = reinterpret_cast<pollfd *>(pollfds_.data());
    {
        BqlUnlockGuard unlocked;
        ppoll(fds, nfds_t(n), wait < 0 ? nullptr : &ts, nullptr);
    }
    if (g_main_context_check(ctx_, max_prio, reinterpret_cast<GPollFD *>(fds), n))
        g_main_context_dispatch(ctx_);
    run_bhs();
    timers_run_expired();
    g_main_context_release(ctx_);
}

Bh *MainLoop::bh_new(BhCallback cb, void *opaque)
{
    auto bh = std::make_unique<Bh>();
    bh->cb = cb;
    bh->opaque = opaque;
    std::lock_guard g(bh_lock_);
    return bhs_.emplace_back(std::move(bh)).get();
}

void MainLoop::bh_schedule(Bh *bh)
{
    if (bh->scheduled.exchange(true))
        return;
    bh_pending_.store(true);
    wakeup();
}

void MainLoop::bh_cancel(Bh *bh) { bh->scheduled.store(false); }

void MainLoop::bh_free(Bh *bh)
{
    // Freed lazily by run_bhs(), which may be walking the list right now.
    bh->scheduled.store(false);
    bh->deleted.store(true);
    bh_pending_.store(true);
}

bool MainLoop::run_bhs()
{
    if (!bh_pending_.exchange(false))
        return false;
    std::vector<Bh *> due;
    {
        std::lock_guard g(bh_lock_);
        for (auto &bh : bhs_)
            if (bh->scheduled.load())
                due.push_back(bh.get());
    }
    for (Bh *bh : due)
        if (!bh->deleted.load() && bh->scheduled.exchange(false))
            bh->cb(bh->opaque);
    std::lock_guard g(bh_lock_);
    std::erase_if(bhs_, [](const auto &bh) { return bh->deleted.load(); });
    return !due.empty();
}

void MainLoop::set_fd_handler(int fd, FdCallback on_read, FdCallback on_write, void *opaque)
{
    GSource *old = nullptr;
    GSource *fresh = nullptr;
    if (on_read || on_write) {
        unsigned cond = (on_read ? G_IO_IN | G_IO_HUP | G_IO_ERR : 0) | (on_write ? G_IO_OUT | G_IO_ERR : 0);
        fresh = g_unix_fd_source_new(fd, GIOCondition(cond));
        g_source_set_callback(fresh, G_SOURCE_FUNC(+[](gint f, GIOCondition c, gpointer self) -> gboolean {
                                  return fd_source_cb(f, c, self);
                              }),
                              this, nullptr);
    }
    {
        std::lock_guard g(fd_lock_);
        auto it = fds_.find(fd);
        if (it != fds_.end()) {
            old = it->second.source;
            fds_.erase(it);
        }
        if (fresh)
            fds_[fd] = FdEntry{fresh, on_read, on_write, opaque};
    }
    if (old) {
        g_source_destroy(old);
        g_source_unref(old);
    }
    if (fresh)
        g_source_attach(fresh, ctx_);
}

bool MainLoop::has_fd_handler(int fd) const
{
    std::lock_guard g(fd_lock_);
    return fds_.contains(fd);
}

int MainLoop::fd_source_cb(int fd, unsigned condition, void *self)
{
    static_cast<MainLoop *>(self)->dispatch_fd(fd, condition);
    return G_SOURCE_CONTINUE;
}

void MainLoop::dispatch_fd(int fd, unsigned condition)
{
    // Look the handler up again before each call: the previous one may have
    // removed or replaced it.
    auto current = [&] {
        std::lock_guard g(fd_lock_);
        auto it = fds_.find(fd);
        return it == fds_.end() ? FdEntry{} : it->second;
    };
    FdEntry e = current();
    if (e.on_read && (condition & (G_IO_IN | G_IO_HUP | G_IO_ERR)))
        e.on_read(e.opaque, fd);
    e = current();
    if (e.on_write && (condition & (G_IO_OUT | G_IO_ERR)))
        e.on_write(e.opaque, fd);
}

void MainLoop::drain_self_pipe()
{
    wake_pending_.store(false);
    PipeRecord r;
    while (read(self_pipe_[0], &r, sizeof r) == ssize_t(sizeof r)) {
        if (r.signo != 0 && on_signal_)
            on_signal_(SignalEvent{r.signo, pid_t(r.pid)});
    }
}

void MainLoop::install_termination_signals(std::function<void(const SignalEvent &)> callback)
{
    on_signal_ = std::move(callback);
    struct sigaction sa {};
    sa.sa_sigaction = termination_handler;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    for (int sig : {SIGINT, SIGTERM, SIGHUP})
        sigaction(sig, &sa, nullptr);
    signal(SIGPIPE, SIG_IGN);
}

}  // namespace tessera
