#include "loop/bql.hpp"

#include <cassert>
#include <mutex>

namespace tessera {
namespace {
std::mutex g_bql;
thread_local bool t_held = false;
}  // namespace

void bql_lock()
{
    assert(!t_held && "BQL is not recursive");
    g_bql.lock();
    t_held = true;
}

void bql_unlock()
{
    assert(t_held);
    t_held = false;
    g_bql.unlock();
}

bool bql_locked() { return t_held; }

}  // namespace tessera
