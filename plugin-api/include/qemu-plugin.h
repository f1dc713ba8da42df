/* Instrumentation plugin API, source- and binary-compatible with QEMU's TCG
 * plugin API version 5 (QEMU 10.1/10.2). A plugin written for that API builds
 * against this header and loads in tessera with `-plugin file=lib.so,...`.
 *
 * Written for tessera from the documented API (names, signatures, enum values
 * and struct layouts must match it; the wording here is ours).
 *
 * A plugin exports two symbols:
 *   QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;
 *   QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t, const qemu_info_t *, int, char **);
 * and calls the qemu_plugin_* functions below, which the tessera executable
 * exports. Callbacks run on the vCPU threads; plugins do their own locking.
 */
#ifndef QEMU_QEMU_PLUGIN_H
#define QEMU_QEMU_PLUGIN_H

#include <glib.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>

#if defined _WIN32 || defined __CYGWIN__
#ifdef CONFIG_PLUGIN
#define QEMU_PLUGIN_EXPORT __declspec(dllimport)
#define QEMU_PLUGIN_API __declspec(dllexport)
#else
#define QEMU_PLUGIN_EXPORT __declspec(dllexport)
#define QEMU_PLUGIN_API __declspec(dllimport)
#endif
#define QEMU_PLUGIN_LOCAL
#else
#define QEMU_PLUGIN_EXPORT __attribute__((visibility("default")))
#define QEMU_PLUGIN_LOCAL __attribute__((visibility("hidden")))
#define QEMU_PLUGIN_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Opaque per-plugin identifier handed to qemu_plugin_install. */
typedef uint64_t qemu_plugin_id_t;

/* API levels: the loader accepts plugins declaring a version in
 * [minimum, QEMU_PLUGIN_VERSION] (the minimum is reported in qemu_info_t).
 *   2: per-vCPU inline operations on scoreboards replace the old inline calls
 *   3: qemu_plugin_insn_data copies into a caller buffer
 *   4: qemu_plugin_read_memory_vaddr
 *   5: write_memory_vaddr, read/write_memory_hwaddr, write_register,
 *      translate_vaddr */
extern QEMU_PLUGIN_EXPORT int qemu_plugin_version;

#define QEMU_PLUGIN_VERSION 5

/* What the emulator tells the plugin at install time (valid during the call). */
typedef struct qemu_info_t {
    const char *target_name;   /* "riscv64" */
    struct {
        int min;
        int cur;
    } version;
    bool system_emulation;
    union {
        struct {
            int smp_vcpus;
            int max_vcpus;
        } system;
    };
} qemu_info_t;

/* Called once when loaded; argv ("name=value" strings) lives as long as the
 * plugin. Return 0 on success. */
QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                                           int argc, char **argv);

typedef void (*qemu_plugin_simple_cb_t)(qemu_plugin_id_t id);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
typedef void (*qemu_plugin_vcpu_simple_cb_t)(qemu_plugin_id_t id, unsigned int vcpu_index);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);

/* Kinds of control-flow discontinuity (10.2). */
enum qemu_plugin_discon_type {
    QEMU_PLUGIN_DISCON_INTERRUPT = 1 << 0,
    QEMU_PLUGIN_DISCON_EXCEPTION = 1 << 1,
    QEMU_PLUGIN_DISCON_HOSTCALL = 1 << 2,
    QEMU_PLUGIN_DISCON_ALL = -1
};

typedef void (*qemu_plugin_vcpu_discon_cb_t)(qemu_plugin_id_t id, unsigned int vcpu_index,
                                             enum qemu_plugin_discon_type type,
                                             uint64_t from_pc, uint64_t to_pc);

/* Remove the plugin (asynchronously; cb runs once it is gone). Not from install. */
QEMU_PLUGIN_API void qemu_plugin_uninstall(qemu_plugin_id_t id, qemu_plugin_simple_cb_t cb);
/* Drop every callback of the plugin (asynchronously; cb runs when done). */
QEMU_PLUGIN_API void qemu_plugin_reset(qemu_plugin_id_t id, qemu_plugin_simple_cb_t cb);

QEMU_PLUGIN_API void qemu_plugin_register_vcpu_init_cb(qemu_plugin_id_t id,
                                                       qemu_plugin_vcpu_simple_cb_t cb);
QEMU_PLUGIN_API void qemu_plugin_register_vcpu_exit_cb(qemu_plugin_id_t id,
                                                       qemu_plugin_vcpu_simple_cb_t cb);
QEMU_PLUGIN_API void qemu_plugin_register_vcpu_idle_cb(qemu_plugin_id_t id,
                                                       qemu_plugin_vcpu_simple_cb_t cb);
QEMU_PLUGIN_API void qemu_plugin_register_vcpu_resume_cb(qemu_plugin_id_t id,
                                                         qemu_plugin_vcpu_simple_cb_t cb);
QEMU_PLUGIN_API void qemu_plugin_register_vcpu_discon_cb(qemu_plugin_id_t id,
                                                         enum qemu_plugin_discon_type type,
                                                         qemu_plugin_vcpu_discon_cb_t cb);

struct qemu_plugin_tb;           /* a block being translated */
struct qemu_plugin_insn;         /* one instruction of that block */
struct qemu_plugin_scoreboard;   /* one entry per vCPU */

/* A uint64_t at `offset` inside each entry of a scoreboard. */
typedef struct {
    struct qemu_plugin_scoreboard *score;
    size_t offset;
} qemu_plugin_u64;

/* What a callback does with the vCPU registers. */
enum qemu_plugin_cb_flags {
    QEMU_PLUGIN_CB_NO_REGS,
    QEMU_PLUGIN_CB_R_REGS,
    QEMU_PLUGIN_CB_RW_REGS,
};

enum qemu_plugin_mem_rw {
    QEMU_PLUGIN_MEM_R = 1,
    QEMU_PLUGIN_MEM_W,
    QEMU_PLUGIN_MEM_RW,
};

enum qemu_plugin_mem_value_type {
    QEMU_PLUGIN_MEM_VALUE_U8,
    QEMU_PLUGIN_MEM_VALUE_U16,
    QEMU_PLUGIN_MEM_VALUE_U32,
    QEMU_PLUGIN_MEM_VALUE_U64,
    QEMU_PLUGIN_MEM_VALUE_U128,
};

/* The value a load returned or a store wrote. */
typedef struct {
    enum qemu_plugin_mem_value_type type;
    union {
        uint8_t u8;
        uint16_t u16;
        uint32_t u32;
        uint64_t u64;
        struct {
            uint64_t low;
            uint64_t high;
        } u128;
    } data;
} qemu_plugin_mem_value;

/* Conditional callbacks fire when (entry OP imm) holds. */
enum qemu_plugin_cond {
    QEMU_PLUGIN_COND_NEVER,
    QEMU_PLUGIN_COND_ALWAYS,
    QEMU_PLUGIN_COND_EQ,
    QEMU_PLUGIN_COND_NE,
    QEMU_PLUGIN_COND_LT,
    QEMU_PLUGIN_COND_LE,
    QEMU_PLUGIN_COND_GT,
    QEMU_PLUGIN_COND_GE,
};

typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);

/* cb sees each newly translated block and may instrument it. */
QEMU_PLUGIN_API void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id,
                                                           qemu_plugin_vcpu_tb_trans_cb_t cb);
/* Block-level instrumentation (only from a translation callback). */
QEMU_PLUGIN_API void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb,
                                                          qemu_plugin_vcpu_udata_cb_t cb,
                                                          enum qemu_plugin_cb_flags flags,
                                                          void *userdata);
QEMU_PLUGIN_API void qemu_plugin_register_vcpu_tb_exec_cond_cb(struct qemu_plugin_tb *tb,
                                                               qemu_plugin_vcpu_udata_cb_t cb,
                                                               enum qemu_plugin_cb_flags flags,
                                                               enum qemu_plugin_cond cond,
                                                               qemu_plugin_u64 entry,
                                                               uint64_t imm, void *userdata);

enum qemu_plugin_op {
    QEMU_PLUGIN_INLINE_ADD_U64,
    QEMU_PLUGIN_INLINE_STORE_U64,
};

QEMU_PLUGIN_API void qemu_plugin_register_vcpu_tb_exec_inline_per_vcpu(struct qemu_plugin_tb *tb,
                                                                       enum qemu_plugin_op op,
                                                                       qemu_plugin_u64 entry,
                                                                       uint64_t imm);

/* Instruction-level instrumentation: runs before the instruction executes. */
QEMU_PLUGIN_API void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn,
                                                            qemu_plugin_vcpu_udata_cb_t cb,
                                                            enum qemu_plugin_cb_flags flags,
                                                            void *userdata);
QEMU_PLUGIN_API void qemu_plugin_register_vcpu_insn_exec_cond_cb(struct qemu_plugin_insn *insn,
                                                                 qemu_plugin_vcpu_udata_cb_t cb,
                                                                 enum qemu_plugin_cb_flags flags,
                                                                 enum qemu_plugin_cond cond,
                                                                 qemu_plugin_u64 entry,
                                                                 uint64_t imm, void *userdata);
QEMU_PLUGIN_API void qemu_plugin_register_vcpu_insn_exec_inline_per_vcpu(
    struct qemu_plugin_insn *insn, enum qemu_plugin_op op, qemu_plugin_u64 entry, uint64_t imm);

/* Queries on a block and its instructions (valid during the translation callback). */
QEMU_PLUGIN_API size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
QEMU_PLUGIN_API uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
QEMU_PLUGIN_API struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb,
                                                                 size_t idx);
/* Copies min(len, size) bytes of the encoding; returns the count. */
QEMU_PLUGIN_API size_t qemu_plugin_insn_data(const struct qemu_plugin_insn *insn, void *dest,
                                             size_t len);
QEMU_PLUGIN_API size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);
QEMU_PLUGIN_API uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
QEMU_PLUGIN_API void *qemu_plugin_insn_haddr(const struct qemu_plugin_insn *insn);

/* Describes one memory access; query it with qemu_plugin_mem_*. */
typedef uint32_t qemu_plugin_meminfo_t;
struct qemu_plugin_hwaddr;

QEMU_PLUGIN_API unsigned int qemu_plugin_mem_size_shift(qemu_plugin_meminfo_t info);
QEMU_PLUGIN_API bool qemu_plugin_mem_is_sign_extended(qemu_plugin_meminfo_t info);
QEMU_PLUGIN_API bool qemu_plugin_mem_is_big_endian(qemu_plugin_meminfo_t info);
QEMU_PLUGIN_API bool qemu_plugin_mem_is_store(qemu_plugin_meminfo_t info);
QEMU_PLUGIN_API qemu_plugin_mem_value qemu_plugin_mem_get_value(qemu_plugin_meminfo_t info);
/* Physical side of the access in the current callback (NULL if unknown). */
QEMU_PLUGIN_API struct qemu_plugin_hwaddr *qemu_plugin_get_hwaddr(qemu_plugin_meminfo_t info,
                                                                  uint64_t vaddr);
QEMU_PLUGIN_API bool qemu_plugin_hwaddr_is_io(const struct qemu_plugin_hwaddr *haddr);
QEMU_PLUGIN_API uint64_t qemu_plugin_hwaddr_phys_addr(const struct qemu_plugin_hwaddr *haddr);
QEMU_PLUGIN_API const char *qemu_plugin_hwaddr_device_name(const struct qemu_plugin_hwaddr *h);

typedef void (*qemu_plugin_vcpu_mem_cb_t)(unsigned int vcpu_index, qemu_plugin_meminfo_t info,
                                          uint64_t vaddr, void *userdata);

/* Called after each access the instruction makes (none if it makes none). */
QEMU_PLUGIN_API void qemu_plugin_register_vcpu_mem_cb(struct qemu_plugin_insn *insn,
                                                      qemu_plugin_vcpu_mem_cb_t cb,
                                                      enum qemu_plugin_cb_flags flags,
                                                      enum qemu_plugin_mem_rw rw, void *userdata);
QEMU_PLUGIN_API void qemu_plugin_register_vcpu_mem_inline_per_vcpu(struct qemu_plugin_insn *insn,
                                                                   enum qemu_plugin_mem_rw rw,
                                                                   enum qemu_plugin_op op,
                                                                   qemu_plugin_u64 entry,
                                                                   uint64_t imm);

/* Virtual time control (one plugin at most). */
QEMU_PLUGIN_API const void *qemu_plugin_request_time_control(void);
QEMU_PLUGIN_API void qemu_plugin_update_ns(const void *handle, int64_t time);

/* User-mode only; never called in system emulation. */
typedef void (*qemu_plugin_vcpu_syscall_cb_t)(qemu_plugin_id_t id, unsigned int vcpu_index,
                                              int64_t num, uint64_t a1, uint64_t a2, uint64_t a3,
                                              uint64_t a4, uint64_t a5, uint64_t a6, uint64_t a7,
                                              uint64_t a8);
QEMU_PLUGIN_API void qemu_plugin_register_vcpu_syscall_cb(qemu_plugin_id_t id,
                                                          qemu_plugin_vcpu_syscall_cb_t cb);
typedef void (*qemu_plugin_vcpu_syscall_ret_cb_t)(qemu_plugin_id_t id, unsigned int vcpu_idx,
                                                  int64_t num, int64_t ret);
QEMU_PLUGIN_API void qemu_plugin_register_vcpu_syscall_ret_cb(qemu_plugin_id_t id,
                                                              qemu_plugin_vcpu_syscall_ret_cb_t cb);

/* Disassembly, allocated with g_malloc (the caller g_free()s it). */
QEMU_PLUGIN_API char *qemu_plugin_insn_disas(const struct qemu_plugin_insn *insn);
/* Best-effort symbol of the instruction's address; NULL when none. */
QEMU_PLUGIN_API const char *qemu_plugin_insn_symbol(const struct qemu_plugin_insn *insn);

QEMU_PLUGIN_API void qemu_plugin_vcpu_for_each(qemu_plugin_id_t id, qemu_plugin_vcpu_simple_cb_t cb);
/* Translated code was dropped: blocks will be translated again. */
QEMU_PLUGIN_API void qemu_plugin_register_flush_cb(qemu_plugin_id_t id, qemu_plugin_simple_cb_t cb);
/* Once, when the emulation ends. */
QEMU_PLUGIN_API void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb,
                                                    void *userdata);
QEMU_PLUGIN_API int qemu_plugin_num_vcpus(void);

/* Text to the log (-d plugin; -D FILE or stderr). */
QEMU_PLUGIN_API void qemu_plugin_outs(const char *string);

/* "name=on|yes|true|off|no|false" -> *ret; false if val is not a boolean. */
QEMU_PLUGIN_API bool qemu_plugin_bool_parse(const char *name, const char *val, bool *ret);

/* User-mode information; NULL / 0 in system emulation. */
QEMU_PLUGIN_API const char *qemu_plugin_path_to_binary(void);
QEMU_PLUGIN_API uint64_t qemu_plugin_start_code(void);
QEMU_PLUGIN_API uint64_t qemu_plugin_end_code(void);
QEMU_PLUGIN_API uint64_t qemu_plugin_entry_code(void);

struct qemu_plugin_register;

/* One register of the current vCPU (names and features as in gdb's XML). */
typedef struct {
    struct qemu_plugin_register *handle;
    const char *name;
    const char *feature;
} qemu_plugin_reg_descriptor;

/* GArray of qemu_plugin_reg_descriptor; the caller frees the array. vCPU context. */
QEMU_PLUGIN_API GArray *qemu_plugin_get_registers(void);
/* Appends the value (target byte order) to buf; returns its size or -1. */
QEMU_PLUGIN_API int qemu_plugin_read_register(struct qemu_plugin_register *handle, GByteArray *buf);
/* Writes from buf; returns the bytes written, 0 on failure. */
QEMU_PLUGIN_API int qemu_plugin_write_register(struct qemu_plugin_register *handle, GByteArray *buf);

/* Guest memory through the current vCPU's translation. */
QEMU_PLUGIN_API bool qemu_plugin_read_memory_vaddr(uint64_t addr, GByteArray *data, size_t len);
QEMU_PLUGIN_API bool qemu_plugin_write_memory_vaddr(uint64_t addr, GByteArray *data);

enum qemu_plugin_hwaddr_operation_result {
    QEMU_PLUGIN_HWADDR_OPERATION_OK,
    QEMU_PLUGIN_HWADDR_OPERATION_ERROR,
    QEMU_PLUGIN_HWADDR_OPERATION_DEVICE_ERROR,
    QEMU_PLUGIN_HWADDR_OPERATION_ACCESS_DENIED,
    QEMU_PLUGIN_HWADDR_OPERATION_INVALID_ADDRESS,
    QEMU_PLUGIN_HWADDR_OPERATION_INVALID_ADDRESS_SPACE,
};

/* Guest physical memory of the current vCPU's address space. */
QEMU_PLUGIN_API enum qemu_plugin_hwaddr_operation_result
qemu_plugin_read_memory_hwaddr(uint64_t addr, GByteArray *data, size_t len);
QEMU_PLUGIN_API enum qemu_plugin_hwaddr_operation_result
qemu_plugin_write_memory_hwaddr(uint64_t addr, GByteArray *data);
QEMU_PLUGIN_API bool qemu_plugin_translate_vaddr(uint64_t vaddr, uint64_t *hwaddr);

/* Scoreboards: one element_size entry per vCPU, zeroed, grown as vCPUs appear. */
QEMU_PLUGIN_API struct qemu_plugin_scoreboard *qemu_plugin_scoreboard_new(size_t element_size);
QEMU_PLUGIN_API void qemu_plugin_scoreboard_free(struct qemu_plugin_scoreboard *score);
QEMU_PLUGIN_API void *qemu_plugin_scoreboard_find(struct qemu_plugin_scoreboard *score,
                                                  unsigned int vcpu_index);

#define qemu_plugin_scoreboard_u64(score) (qemu_plugin_u64){score, 0}
#define qemu_plugin_scoreboard_u64_in_struct(score, type, member) \
    (qemu_plugin_u64){score, offsetof(type, member)}

QEMU_PLUGIN_API void qemu_plugin_u64_add(qemu_plugin_u64 entry, unsigned int vcpu_index,
                                         uint64_t added);
QEMU_PLUGIN_API uint64_t qemu_plugin_u64_get(qemu_plugin_u64 entry, unsigned int vcpu_index);
QEMU_PLUGIN_API void qemu_plugin_u64_set(qemu_plugin_u64 entry, unsigned int vcpu_index,
                                         uint64_t val);
QEMU_PLUGIN_API uint64_t qemu_plugin_u64_sum(qemu_plugin_u64 entry);

#ifdef __cplusplus
}
#endif
#endif /* QEMU_QEMU_PLUGIN_H */
