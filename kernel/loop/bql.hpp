// The kernel-wide lock ("BQL"): devices, timers, bottom halves and fd
// handlers run with it held; vCPU threads drop it while running guest code
// and the main loop drops it while polling.
#pragma once

namespace tessera {

void bql_lock();
void bql_unlock();
// Whether the calling thread holds the lock.
bool bql_locked();

class BqlGuard {
public:
    BqlGuard() { bql_lock(); }
    ~BqlGuard() { bql_unlock(); }
    BqlGuard(const BqlGuard &) = delete;
    BqlGuard &operator=(const BqlGuard &) = delete;
};

// Drops the lock for a scope (blocking waits on a thread that holds it).
class BqlUnlockGuard {
public:
    BqlUnlockGuard() { bql_unlock(); }
    ~BqlUnlockGuard() { bql_lock(); }
    BqlUnlockGuard(const BqlUnlockGuard &) = delete;
    BqlUnlockGuard &operator=(const BqlUnlockGuard &) = delete;
};

}  // namespace tessera
