#include "secrets/secret.hpp"

#include <glib.h>

#include <fstream>
#include <map>
#include <sstream>

namespace tessera {

namespace {
std::map<std::string, std::string, std::less<>> g_secrets;
}

void secret_add(const KeyVals &opts) {
    const std::string id = opts.get("id");
    for (const auto &[k, v] : opts.items)
        if (k != "qom-type" && k != "id" && k != "data" && k != "file" && k != "format" && k != "keyid" && k != "iv" &&
            k != "loaded")
            throw UsageError("Property 'secret." + k + "' not found");
    if (opts.has("keyid") || opts.has("iv"))
        throw UsageError("secret '" + id + "': encrypted secrets (keyid=, iv=) are not supported by tessera yet");
    if (opts.has("data") == opts.has("file"))
        throw UsageError(opts.has("data") ? "'data' and 'file' are mutually exclusive"
                                          : "Either 'data' or 'file' must be provided");
    std::string value;
    if (opts.has("data")) {
        value = opts.get("data");
    } else {
        std::ifstream f(opts.get("file"), std::ios::binary);
        if (!f) throw UsageError("Unable to read " + opts.get("file") + ": No such file or directory");
        std::ostringstream ss;
        ss << f.rdbuf();
        value = ss.str();
    }
    const std::string format = opts.get("format", "raw");
    if (format == "base64") {
        for (char c : value)
            if (!(g_ascii_isalnum(c) || c == '+' || c == '/' || c == '=' || c == '\n' || c == '\r'))
                throw UsageError("secret '" + id + "': Invalid base64 data");
        gsize len = 0;
        guchar *raw = g_base64_decode(value.c_str(), &len);
        value.assign(reinterpret_cast<const char *>(raw), len);
        g_free(raw);
    } else if (format != "raw") {
        throw UsageError("Parameter 'format' does not accept value '" + format + "'");
    }
    g_secrets[id] = std::move(value);
}

std::optional<std::string> secret_lookup(std::string_view id) {
    auto it = g_secrets.find(id);
    if (it == g_secrets.end()) return std::nullopt;
    return it->second;
}

}  // namespace tessera
