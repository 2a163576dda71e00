/* st: safetensors files, read by mmap and written atomically.
 * Format: 8-byte little-endian header length N, N bytes of JSON
 * {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
 *  "__metadata__": {...}}, then the data block; offsets are relative to it.
 * A checkpoint may be one file or shards listed by model.safetensors.index.json.
 * Ownership: tensors and their names belong to the st_set and live until st_close.
 * Data is read in place through mmap: opening touches only the headers, and a
 * tensor's pages are read when it is converted. Hosts are assumed little-endian. */
#ifndef ALARM_ST_H
#define ALARM_ST_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define ST_MAX_DIMS 8

typedef enum { ST_F32, ST_F16, ST_BF16, ST_OTHER } st_dtype;

typedef struct {
    const char *name;
    st_dtype dtype;
    char dtype_name[16];        /* as written in the header, e.g. "F32", "I64" */
    int ndim;
    int64_t shape[ST_MAX_DIMS];
    size_t numel;
    size_t nbytes;
    const unsigned char *data;  /* points into the mapped file; not necessarily
                                   aligned: read it through st_to_f32 */
} st_tensor;

typedef struct st_set st_set;

/* Opens `path`: a .safetensors file, a checkpoint directory holding
 * model.safetensors (preferred) or model.safetensors.index.json with its
 * shards, or the path of such a .json index. Validates every header fully
 * (offsets in range, non-overlapping, sizes matching dtype x shape, no name
 * twice, every weight_map entry in its shard) before returning; on failure
 * *out is NULL and e names the file and the tensor. */
int st_open(st_set **out, const char *path, alarm_err *e);
void st_close(st_set *s);

size_t st_count(const st_set *s);
const st_tensor *st_at(const st_set *s, size_t i);
const st_tensor *st_find(const st_set *s, const char *name); /* NULL if absent */

/* Validates a safetensors image already in memory (not copied: `buf` must
 * outlive the set). `label` names it in error messages. For tests and fuzzing. */
int st_open_buffer(st_set **out, const void *buf, size_t len, const char *label,
                   alarm_err *e);

/* Value of key in "__metadata__" (of any file of the set), NULL if absent. */
const char *st_metadata(const st_set *s, const char *key);

/* Converts a F32/F16/BF16 tensor to fp32 into dst, which holds t->numel floats.
 * Other dtypes are refused with an error naming the tensor. */
int st_to_f32(const st_tensor *t, float *dst, alarm_err *e);

/* Exact scalar conversions; fp32 -> 16 bits rounds to nearest even like
 * PyTorch's .to(torch.bfloat16) / .to(torch.float16) (NaN -> 0xffff / sign|0x7e00). */
float st_bf16_to_f32(uint16_t h);
float st_f16_to_f32(uint16_t h);
uint16_t st_f32_to_bf16(float f);
uint16_t st_f32_to_f16(float f);

/* One tensor to write: fp32 data of `ndim` dims. */
typedef struct {
    const char *name;
    const float *data;
    int ndim;
    int64_t shape[ST_MAX_DIMS];
} st_out;

/* Writes tensors as F32 (or BF16/F16 when `dtype` says so) to `path`,
 * through a temporary file renamed into place. `metadata` may be NULL or a
 * NULL-terminated list of key, value string pairs for "__metadata__". */
int st_write(const char *path, const st_out *tensors, size_t n, st_dtype dtype,
             const char *const *metadata, alarm_err *e);

/* Writes tensors into the existing directory `dir` (e.g. a ckpt temporary
 * directory) the way transformers' save_pretrained does (>= 4.42, through
 * huggingface_hub): model.safetensors when they fit in max_shard_bytes (0: no
 * limit), else shards model-0000K-of-0000N.safetensors and
 * model.safetensors.index.json ({"metadata": {"total_size": bytes},
 * "weight_map": {name: file}}, keys sorted, indented by 2). Tensors stay whole
 * and in the order given; a shard is closed when the next tensor would take it
 * past max_shard_bytes; a tensor larger than that gets a shard of its own,
 * numbered when it is met (so before the shard still being filled). Each file
 * is written atomically, but a failure can leave earlier shards in `dir`:
 * write into a temporary directory. `metadata` goes into every shard. */
int st_write_dir(const char *dir, const st_out *tensors, size_t n, st_dtype dtype,
                 size_t max_shard_bytes, const char *const *metadata, alarm_err *e);

#endif
