// Character devices: one backend (a host file, socket, terminal...) and the
// front end (a UART, the monitor) attached to it. Front-end calls (write,
// accept_input) are made with the BQL held; backend input and events reach
// the front end on the main loop, BQL held.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tessera {

// The first three match the ABI's TS_CHR_EVENT_*; the mux focus events are
// kernel-internal (the ABI glue does not pass them to plugins).
enum class ChrEvent : int { Opened = 1, Closed = 2, Break = 3, MuxIn = 4, MuxOut = 5 };

// The device side, as ts_chardev_ops. A missing can_receive means "takes
// anything"; a missing receive drops input.
struct ChrHandlers {
    std::function<size_t()> can_receive;
    std::function<void(std::span<const uint8_t>)> receive;
    std::function<void(ChrEvent)> event;
};

class Chardev;

// What a front end holds: owned by its chardev, valid until detach().
class ChrFrontend {
public:
    // Sends the whole buffer unless the backend failed (then what went out).
    // A disconnected socket or pty swallows the data, as the reference does.
    size_t write(std::span<const uint8_t> data);
    size_t write(std::string_view text)
    {
        return write(std::span(reinterpret_cast<const uint8_t *>(text.data()), text.size()));
    }
    // The device can take more input: poll the backend again.
    void accept_input();
    void detach();
    Chardev &chardev() const { return *chr_; }

private:
    friend class Chardev;
    friend class MuxChardev;
    ChrFrontend(Chardev *chr, unsigned tag, ChrHandlers h) : chr_(chr), tag_(tag), handlers_(std::move(h)) {}
    Chardev *chr_;
    unsigned tag_;
    ChrHandlers handlers_;
};

class Chardev {
public:
    explicit Chardev(std::string id);
    virtual ~Chardev();
    Chardev(const Chardev &) = delete;
    Chardev &operator=(const Chardev &) = delete;

    const std::string &id() const { return id_; }
    // Backend name ("socket", "pty", ...).
    virtual std::string_view kind() const = 0;
    // The reference's `info chardev` filename ("pty:/dev/pts/3",
    // "disconnected:tcp:127.0.0.1:4444,server=on", ...).
    virtual std::string filename() const { return std::string(kind()); }
    // Whether the backend is connected (sockets, ptys) or always open.
    bool is_open() const { return open_; }
    // Bound port of a tcp/udp socket (port=0 asks for an ephemeral one); -1.
    virtual int local_port() const { return -1; }

    // Attach the front end. Throws UsageError when one is attached already
    // (a mux takes several). Sends Opened at once if the backend is open.
    virtual ChrFrontend &attach(ChrHandlers handlers);
    bool has_frontend() const { return !frontends_.empty(); }

    // Copy everything the front end writes to a file (logfile=, logappend=).
    void set_logfile(const std::string &path, bool append);

protected:
    // --- For backends ---
    // Room the front end has now (0 when none attached or it is full).
    size_t frontend_can_receive();
    void frontend_receive(std::span<const uint8_t> data);
    virtual void frontend_event(ChrEvent ev);
    // Connection state: sends Opened/Closed on change.
    void set_open(bool open);

    // Bytes from the front end to the host; returns how many went out.
    virtual size_t backend_write(std::span<const uint8_t> data) = 0;
    // The front end can take more input (also called right after attach).
    virtual void backend_accept_input() {}

    // --- For the mux ---
    virtual size_t frontend_write(unsigned tag, std::span<const uint8_t> data);
    virtual void frontend_accept_input(unsigned tag);
    virtual void frontend_detach(unsigned tag);
    std::vector<std::unique_ptr<ChrFrontend>> frontends_;
    static ChrHandlers &handlers_of(ChrFrontend &fe) { return fe.handlers_; }

private:
    friend class ChrFrontend;
    std::string id_;
    bool open_ = false;
    int log_fd_ = -1;
};

// Blocking helpers shared by fd backends: whole buffer unless an error.
size_t write_all_fd(int fd, std::span<const uint8_t> data);

}  // namespace tessera
