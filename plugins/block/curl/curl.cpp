// The `http` and `https` protocol drivers (libcurl), read-only as in the
// reference: the size comes from a HEAD request, the server must take byte
// ranges, and reads fetch at least `readahead` bytes into a small cache of
// windows so a guest's sequential small reads cost one request each window.
#include "../driver.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <list>
#include <memory>
#include <mutex>
#include <vector>

namespace {

constexpr uint64_t kReadaheadDefault = 256 * 1024;
constexpr uint64_t kTimeoutDefault = 5, kTimeoutMax = 100000;
constexpr size_t kWindows = 8;

struct Window {
    uint64_t start;
    std::vector<uint8_t> data;
};

class CurlNode : public blk::Node {
public:
    explicit CurlNode(ts_object *o) : Node(o) {}
    ~CurlNode() {
        if (curl_) curl_easy_cleanup(curl_);
    }

    void realize() {
        if (!flag("read-only")) throw ts::Error("curl block device does not support writes");
        url_ = std::string(has("url") ? str("url") : str("filename"));
        if (url_.empty()) throw ts::Error("curl block driver requires an 'url' option");
        readahead_ = has("readahead") ? size("readahead") : kReadaheadDefault;
        if (readahead_ % 512) throw ts::Error("HTTP_READAHEAD_SIZE " + std::to_string(readahead_) + " is not a multiple of 512");
        timeout_ = has("timeout") ? size("timeout") : kTimeoutDefault;
        if (timeout_ > kTimeoutMax) throw ts::Error("timeout option must be <= " + std::to_string(kTimeoutMax));
        sslverify_ = !has("sslverify") || flag("sslverify");
        cookie_ = std::string(str("cookie"));
        username_ = std::string(str("username"));
        proxy_username_ = std::string(str("proxy-username"));
        static std::once_flag once;
        std::call_once(once, [] { curl_global_init(CURL_GLOBAL_ALL); });
        curl_ = curl_easy_init();
        if (!curl_) throw ts::Error("CURL: Error opening file: cannot initialise libcurl");

        // The size, and whether the server takes ranges.
        setup();
        accept_ranges_ = false;
        curl_easy_setopt(curl_, CURLOPT_NOBODY, 1L);
        curl_easy_setopt(curl_, CURLOPT_HEADERFUNCTION, &CurlNode::on_header);
        curl_easy_setopt(curl_, CURLOPT_HEADERDATA, this);
        perform("CURL: Error opening file: ");
        curl_off_t len = -1;
        curl_easy_getinfo(curl_, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &len);
        if (len < 0) throw ts::Error("Server didn't report file size.");
        length_ = uint64_t(len);
        if (!accept_ranges_) throw ts::Error("Server does not support 'range' (byte ranges).");
        curl_easy_setopt(curl_, CURLOPT_NOBODY, 0L);
        // Without a header callback libcurl would fwrite() headers to HEADERDATA.
        curl_easy_setopt(curl_, CURLOPT_HEADERFUNCTION, nullptr);
        curl_easy_setopt(curl_, CURLOPT_HEADERDATA, nullptr);
    }

    void pread(uint64_t off, std::span<uint8_t> buf) {
        while (!buf.empty()) {
            const Window &w = window_for(off);
            size_t in = size_t(off - w.start), n = std::min(buf.size(), w.data.size() - in);
            std::copy_n(w.data.begin() + ptrdiff_t(in), n, buf.begin());
            off += n;
            buf = buf.subspan(n);
        }
    }
    void pwrite(uint64_t, std::span<const uint8_t>) { throw ts::Error("curl block device does not support writes"); }
    uint64_t length() { return length_; }

private:
    static size_t on_header(char *p, size_t sz, size_t n, void *self) {
        std::string_view line(p, sz * n);
        constexpr std::string_view kAccept = "accept-ranges:";
        if (line.size() >= kAccept.size()) {
            std::string head(line.substr(0, kAccept.size()));
            for (char &c : head) c = char(std::tolower(static_cast<unsigned char>(c)));
            if (head == kAccept && line.find("bytes") != std::string_view::npos)
                static_cast<CurlNode *>(self)->accept_ranges_ = true;
        }
        return sz * n;
    }
    static size_t on_body(char *p, size_t sz, size_t n, void *out) {
        auto *v = static_cast<std::vector<uint8_t> *>(out);
        v->insert(v->end(), p, p + sz * n);
        return sz * n;
    }

    void setup() {
        curl_easy_setopt(curl_, CURLOPT_URL, url_.c_str());
        curl_easy_setopt(curl_, CURLOPT_TIMEOUT, long(timeout_));
        curl_easy_setopt(curl_, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(curl_, CURLOPT_FAILONERROR, 1L);
        curl_easy_setopt(curl_, CURLOPT_SSL_VERIFYPEER, sslverify_ ? 1L : 0L);
        curl_easy_setopt(curl_, CURLOPT_SSL_VERIFYHOST, sslverify_ ? 2L : 0L);
        if (!cookie_.empty()) curl_easy_setopt(curl_, CURLOPT_COOKIE, cookie_.c_str());
        if (!username_.empty()) curl_easy_setopt(curl_, CURLOPT_USERNAME, username_.c_str());
        if (!proxy_username_.empty()) curl_easy_setopt(curl_, CURLOPT_PROXYUSERNAME, proxy_username_.c_str());
        curl_easy_setopt(curl_, CURLOPT_ERRORBUFFER, errbuf_);
        curl_easy_setopt(curl_, CURLOPT_USERAGENT, "tessera");
    }

    void perform(const std::string &what) {
        errbuf_[0] = 0;
        CURLcode r = curl_easy_perform(curl_);
        if (r != CURLE_OK) throw ts::Error(what + (errbuf_[0] ? errbuf_ : curl_easy_strerror(r)));
    }

    // The cached window holding `off`, fetching [off, off + readahead) if none.
    const Window &window_for(uint64_t off) {
        for (auto it = cache_.begin(); it != cache_.end(); ++it)
            if (off >= it->start && off < it->start + it->data.size()) {
                cache_.splice(cache_.begin(), cache_, it);
                return cache_.front();
            }
        uint64_t start = off & ~uint64_t{511};
        uint64_t end = std::min(length_, start + std::max<uint64_t>(readahead_, 512));
        Window w{start, {}};
        w.data.reserve(size_t(end - start));
        std::string range = std::to_string(start) + "-" + std::to_string(end - 1);
        curl_easy_setopt(curl_, CURLOPT_RANGE, range.c_str());
        curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &CurlNode::on_body);
        curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &w.data);
        perform("CURL: read of " + url_ + " failed: ");
        long code = 0;
        curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &code);
        if (code != 206 || w.data.size() != end - start)
            throw ts::Error("CURL: server sent " + std::to_string(w.data.size()) + " bytes (HTTP " +
                            std::to_string(code) + ") for range " + range);
        cache_.push_front(std::move(w));
        if (cache_.size() > kWindows) cache_.pop_back();
        return cache_.front();
    }

    std::string url_, cookie_, username_, proxy_username_;
    uint64_t readahead_ = kReadaheadDefault, timeout_ = kTimeoutDefault, length_ = 0;
    bool sslverify_ = true, accept_ranges_ = false;
    CURL *curl_ = nullptr;
    char errbuf_[CURL_ERROR_SIZE] = {};
    std::list<Window> cache_;
};

struct HttpNode : CurlNode {
    static constexpr const char *format_name = "http";
    using CurlNode::CurlNode;
};
struct HttpsNode : CurlNode {
    static constexpr const char *format_name = "https";
    using CurlNode::CurlNode;
};

constexpr ts_prop_decl kProps[] = {
    blk::prop("url", TS_PROP_STRING, nullptr, "the image's URL"),
    blk::prop("filename", TS_PROP_STRING, nullptr, "the image's URL (as -drive file= gives it)"),
    blk::prop("read-only", TS_PROP_BOOL, "off", "must be on: the driver cannot write"),
    blk::prop("readahead", TS_PROP_SIZE, nullptr, "bytes fetched at least per request (default 256k)"),
    blk::prop("timeout", TS_PROP_UINT, nullptr, "seconds a request may take (default 5)"),
    blk::prop("sslverify", TS_PROP_BOOL, nullptr, "check the server's certificate (https; default on)"),
    blk::prop("cookie", TS_PROP_STRING, nullptr, "cookies to send, 'name=value; ...'"),
    blk::prop("username", TS_PROP_STRING, nullptr, "user name for HTTP authentication"),
    blk::prop("proxy-username", TS_PROP_STRING, nullptr, "user name for the proxy"),
};
const ts_block_driver_class kHttp = blk::driver_class<HttpNode>(kProps);
const ts_block_driver_class kHttps = blk::driver_class<HttpsNode>(kProps);

const void *get_class(const char *name) {
    std::string_view n = name ? name : "";
    return n == "http" ? &kHttp : n == "https" ? &kHttps : nullptr;
}

}  // namespace

TESSERA_PLUGIN("block-curl", "1.0.0",
               "type block http - - HTTP image (libcurl, read-only)\n"
               "type block https - - HTTPS image (libcurl, read-only)\n",
               get_class);
