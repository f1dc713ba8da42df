#include "chardev/chardev.hpp"

#include "options/keyval.hpp"
#include "tessera/host.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tessera {

static_assert(int(ChrEvent::Opened) == TS_CHR_EVENT_OPENED && int(ChrEvent::Closed) == TS_CHR_EVENT_CLOSED &&
              int(ChrEvent::Break) == TS_CHR_EVENT_BREAK);

size_t write_all_fd(int fd, std::span<const uint8_t> data)
{
    size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n > 0) {
            done += size_t(n);
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && errno == EAGAIN) {
            pollfd p{fd, POLLOUT, 0};
            poll(&p, 1, -1);
        } else {
            break;
        }
    }
    return done;
}

size_t ChrFrontend::write(std::span<const uint8_t> data) { return chr_->frontend_write(tag_, data); }
void ChrFrontend::accept_input() { chr_->frontend_accept_input(tag_); }
void ChrFrontend::detach() { chr_->frontend_detach(tag_); }

Chardev::Chardev(std::string id) : id_(std::move(id)) {}

Chardev::~Chardev()
{
    if (log_fd_ >= 0)
        close(log_fd_);
}

ChrFrontend &Chardev::attach(ChrHandlers handlers)
{
    if (!frontends_.empty())
        throw UsageError("chardev '" + id_ + "' is already in use");
    frontends_.emplace_back(new ChrFrontend(this, 0, std::move(handlers)));
    ChrFrontend &fe = *frontends_.back();
    // Attaching to an already connected backend: the device still wants to
    // hear it opened.
    if (open_)
        frontend_event(ChrEvent::Opened);
    backend_accept_input();
    return fe;
}

void Chardev::set_logfile(const std::string &path, bool append)
{
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0666);
    if (fd < 0)
        throw UsageError("Could not open '" + path + "': " + std::strerror(errno));
    if (log_fd_ >= 0)
        close(log_fd_);
    log_fd_ = fd;
}

size_t Chardev::frontend_can_receive()
{
    if (frontends_.empty())
        return 0;
    auto &h = frontends_.front()->handlers_;
    return h.can_receive ? h.can_receive() : SIZE_MAX;
}

void Chardev::frontend_receive(std::span<const uint8_t> data)
{
    if (!frontends_.empty() && frontends_.front()->handlers_.receive)
        frontends_.front()->handlers_.receive(data);
}

void Chardev::frontend_event(ChrEvent ev)
{
    if (!frontends_.empty() && frontends_.front()->handlers_.event)
        frontends_.front()->handlers_.event(ev);
}

void Chardev::set_open(bool open)
{
    if (open_ == open)
        return;
    open_ = open;
    frontend_event(open ? ChrEvent::Opened : ChrEvent::Closed);
}

size_t Chardev::frontend_write(unsigned, std::span<const uint8_t> data)
{
    size_t n = backend_write(data);
    if (log_fd_ >= 0)
        write_all_fd(log_fd_, data.first(n));
    return n;
}

void Chardev::frontend_accept_input(unsigned) { backend_accept_input(); }

void Chardev::frontend_detach(unsigned) { frontends_.clear(); }

}  // namespace tessera
