// Backends over plain file descriptors: null, stdio, file, pipe, serial (a
// host tty) and pty.
#include "chardev/backends.hpp"
#include "loop/main_loop.hpp"
#include "loop/timer.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include "files/fdset.hpp"

#include <cerrno>
#include <cstring>

namespace tessera {
namespace {

std::string errno_text() { return std::strerror(errno); }

int open_or_throw(const std::string &path, int flags)
{
    int fd = file_open(path, flags);  // also /dev/fdset/N
    if (fd < 0)
        throw UsageError("Could not open '" + path + "': " + errno_text());
    return fd;
}

// Reads in_fd while the front end has room; writes go to out_fd.
class FdChardev : public Chardev {
public:
    FdChardev(std::string id, std::string_view kind, int in_fd, int out_fd, bool owns = true,
              bool start_open = true)
        : Chardev(std::move(id)), kind_(kind), in_fd_(in_fd), out_fd_(out_fd), owns_(owns)
    {
        set_open(start_open);
    }
    ~FdChardev() override
    {
        unwatch();
        if (owns_) {
            if (in_fd_ >= 0)
                close(in_fd_);
            if (out_fd_ >= 0 && out_fd_ != in_fd_)
                close(out_fd_);
        }
    }
    std::string_view kind() const override { return kind_; }

protected:
    size_t backend_write(std::span<const uint8_t> data) override
    {
        return out_fd_ < 0 ? data.size() : write_all_fd(out_fd_, data);
    }
    void backend_accept_input() override
    {
        if (in_fd_ >= 0 && !watching_ && !eof_ && readable() && has_frontend()) {
            watching_ = true;
            main_loop().set_fd_handler(in_fd_, [](void *s, int) { static_cast<FdChardev *>(s)->on_readable(); },
                                       nullptr, this);
        }
    }
    // Whether reading makes sense now (a pty without its slave does not).
    virtual bool readable() { return true; }
    // End of input: the pty overrides it to wait for the next connection.
    virtual void on_eof()
    {
        eof_ = true;
        set_open(false);
    }
    void unwatch()
    {
        if (watching_)
            main_loop().set_fd_handler(in_fd_, nullptr, nullptr, nullptr);
        watching_ = false;
    }
    void on_readable()
    {
        size_t room = frontend_can_receive();
        if (room == 0) {
            unwatch();  // accept_input() resumes
            return;
        }
        std::array<uint8_t, 4096> buf;
        ssize_t n = ::read(in_fd_, buf.data(), std::min(room, buf.size()));
        if (n > 0) {
            frontend_receive(std::span(buf.data(), size_t(n)));
        } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
            unwatch();
            on_eof();
        }
    }

    std::string_view kind_;
    int in_fd_, out_fd_;
    bool owns_;
    bool watching_ = false;
    bool eof_ = false;
};

class NullChardev : public Chardev {
public:
    using Chardev::Chardev;
    std::string_view kind() const override { return "null"; }

protected:
    size_t backend_write(std::span<const uint8_t> data) override { return data.size(); }
};

// ---- stdio: the controlling terminal in raw mode, restored at exit -------
struct SavedTerminal {
    bool saved = false;
    termios tio{};
};
SavedTerminal g_saved_tty;
termios g_raw_tty{};
volatile sig_atomic_t g_raw_applied = 0;
bool g_stdio_in_use = false;

void restore_terminal()
{
    g_raw_applied = 0;
    if (g_saved_tty.saved)
        tcsetattr(0, TCSANOW, &g_saved_tty.tio);
}

// After C-z and fg the shell has put the terminal back to cooked mode.
void on_sigcont(int)
{
    if (g_raw_applied)
        tcsetattr(0, TCSANOW, &g_raw_tty);  // async-signal-safe
}

void raw_terminal(bool allow_signals)
{
    if (!isatty(0))
        return;
    if (!g_saved_tty.saved) {
        tcgetattr(0, &g_saved_tty.tio);
        g_saved_tty.saved = true;
        atexit(restore_terminal);
    }
    termios t = g_saved_tty.tio;
    t.c_iflag &= ~tcflag_t(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
    t.c_oflag |= OPOST;
    t.c_lflag &= ~tcflag_t(ECHO | ECHONL | ICANON | IEXTEN);
    if (!allow_signals)
        t.c_lflag &= ~tcflag_t(ISIG);
    t.c_cflag &= ~tcflag_t(CSIZE | PARENB);
    t.c_cflag |= CS8;
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    g_raw_tty = t;
    g_raw_applied = 1;
    tcsetattr(0, TCSANOW, &t);
    struct sigaction sa {};
    sa.sa_handler = on_sigcont;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGCONT, &sa, nullptr);
}

class StdioChardev : public FdChardev {
public:
    StdioChardev(std::string id, bool allow_signals) : FdChardev(std::move(id), "stdio", 0, 1, false)
    {
        raw_terminal(allow_signals);
        g_stdio_in_use = true;
    }
    ~StdioChardev() override
    {
        restore_terminal();
        g_stdio_in_use = false;
    }
};

// ---- pty: polls for its slave side, swallows output while nobody listens --
class PtyChardev : public FdChardev {
public:
    PtyChardev(std::string id, int master, std::string slave)
        : FdChardev(std::move(id), "pty", master, master, true, false), slave_(std::move(slave)),
          poll_timer_(Clock::Realtime, [](void *s) { static_cast<PtyChardev *>(s)->check_connected(); }, this)
    {
        // A fresh pty shows no hang-up: like the reference, it counts as
        // connected until a slave has come and gone.
        check_connected();
    }
    std::string filename() const override { return "pty:" + slave_; }
    const std::string &slave() const { return slave_; }

protected:
    bool readable() override { return connected_; }
    size_t backend_write(std::span<const uint8_t> data) override
    {
        if (!connected_)
            check_connected();  // the guest writing is a good moment to look
        if (!connected_)
            return data.size();
        // Never block the guest on a reader that does not read: what does
        // not fit in the pty's buffer is dropped.
        size_t done = 0;
        while (done < data.size()) {
            ssize_t n = ::write(in_fd_, data.data() + done, data.size() - done);
            if (n <= 0 && errno != EINTR)
                break;
            done += n > 0 ? size_t(n) : 0;
        }
        return data.size();
    }
    void on_eof() override
    {
        // EIO: the last slave fd closed; look again later.
        connected_ = false;
        set_open(false);
        poll_timer_.mod(clock_ns(Clock::Realtime) + kPollNs);
    }

private:
    static constexpr int64_t kPollNs = 200'000'000;
    void check_connected()
    {
        pollfd p{in_fd_, POLLOUT, 0};
        bool up = poll(&p, 1, 0) == 1 && !(p.revents & POLLHUP);
        if (up && !connected_) {
            connected_ = true;
            set_open(true);
            backend_accept_input();
        }
        if (!connected_)
            poll_timer_.mod(clock_ns(Clock::Realtime) + kPollNs);
    }
    std::string slave_;
    Timer poll_timer_;
    bool connected_ = false;
};

}  // namespace

ChardevPtr make_null_chardev(const std::string &id, const KeyVals &) { return std::make_unique<NullChardev>(id); }

ChardevPtr make_stdio_chardev(const std::string &id, const KeyVals &opts)
{
    if (g_stdio_in_use)
        throw UsageError("cannot use stdio by multiple character devices");
    return std::make_unique<StdioChardev>(id, opt_bool(opts, "signal", true));
}

ChardevPtr make_file_chardev(const std::string &id, const KeyVals &opts)
{
    std::string path = opt_required(opts, "path", "file", "filename");
    bool append = opt_bool(opts, "append", false);
    int out = open_or_throw(path, O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC));
    int in = -1;
    if (opts.has("input-path")) {
        try {
            in = open_or_throw(opts.get("input-path"), O_RDONLY);
        } catch (...) {
            close(out);
            throw;
        }
    }
    auto chr = std::make_unique<FdChardev>(id, "file", in, out);
    return chr;
}

ChardevPtr make_pipe_chardev(const std::string &id, const KeyVals &opts)
{
    std::string path = opt_required(opts, "path", "pipe", "filename");
    // path.in/path.out when both exist, otherwise path for both directions.
    int in = ::open((path + ".in").c_str(), O_RDWR | O_CLOEXEC);
    int out = ::open((path + ".out").c_str(), O_RDWR | O_CLOEXEC);
    if (in < 0 || out < 0) {
        if (in >= 0)
            close(in);
        if (out >= 0)
            close(out);
        in = out = open_or_throw(path, O_RDWR);
    }
    return std::make_unique<FdChardev>(id, "pipe", in, out);
}

ChardevPtr make_serial_chardev(const std::string &id, const KeyVals &opts)
{
    std::string path = opt_required(opts, "path", "serial", "filename");
    int fd = open_or_throw(path, O_RDWR | O_NOCTTY | O_NONBLOCK);
    if (isatty(fd)) {
        termios t{};
        tcgetattr(fd, &t);
        cfmakeraw(&t);
        tcsetattr(fd, TCSANOW, &t);
    }
    auto chr = std::make_unique<FdChardev>(id, "serial", fd, fd);
    return chr;
}

ChardevPtr make_pty_chardev(const std::string &id, const KeyVals &)
{
    int master = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0) {
        std::string err = errno_text();
        if (master >= 0)
            close(master);
        throw UsageError("Failed to create PTY: " + err);
    }
    std::string slave = ptsname(master);
    // Raw mode on the line: the guest's bytes pass untouched.
    termios t{};
    tcgetattr(master, &t);
    cfmakeraw(&t);
    tcsetattr(master, TCSANOW, &t);
    chardev_info("char device redirected to " + slave + " (label " + id + ")");
    return std::make_unique<PtyChardev>(id, master, slave);
}

}  // namespace tessera
