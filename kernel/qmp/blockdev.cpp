// blockdev-add and blockdev-del. blockdev-add: the reference's BlockdevOptions (a union on "driver" whose
// variants nest child nodes as objects, e.g. "file": {"driver": "file", ...})
// is exactly -blockdev's JSON form, so it goes through the same parser and
// the block layer's own checks and messages.
#include "qmp/qmp_internal.hpp"

#include "block/block.hpp"
#include "qmp/session.hpp"
#include "options/keyval.hpp"

namespace tessera {

Json cmd_blockdev_add(QmpCall &call) {
    try {
        // Flattened as -blockdev does it: nested objects become "file.filename",
        // booleans on/off, numbers as spelt.
        KeyVals opts = parse_keyval(to_json(call.args), {}, /*json_ok=*/true, /*allow_bare_flags=*/false);
        block_open_blockdev(opts);
    } catch (const UsageError &e) {
        throw QmpError{"GenericError", e.what()};
    } catch (const BlockError &e) {
        throw QmpError{"GenericError", e.what()};
    }
    return Json::object();
}

// blockdev-del {"node-name": NAME}: the block layer checks who uses the
// node and answers with the reference's words.
Json cmd_blockdev_del(QmpCall &call) {
    try {
        const Json *name = call.args.find("node-name");
        if (!name) throw QmpError{"GenericError", "Parameter 'node-name' is missing"};
        block_del_node(name->as_string());
    } catch (const UsageError &e) {
        throw QmpError{"GenericError", e.what()};
    } catch (const BlockError &e) {
        throw QmpError{"GenericError", e.what()};
    }
    return Json::object();
}

}  // namespace tessera
