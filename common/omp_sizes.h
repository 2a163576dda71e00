/* omp_sizes: when an OpenMP loop is worth a thread team. Starting and joining
 * a team costs a few microseconds; below these sizes a loop finishes sooner
 * on one thread (measured on the 2-core benchmark machine, make bench). */
#ifndef ALARM_OMP_SIZES_H
#define ALARM_OMP_SIZES_H

/* Elements of a streaming, memory-bound loop (adds, activations, RoPE,
 * embeddings, bias rows and sums, AdamW, transposes). */
#define OMP_MIN_ELEMS 65536
/* Multiply-adds or exponentials of a compute-bound loop (cached attention,
 * the LM loss over (N, V) logits). */
#define OMP_MIN_MACS 65536

#endif
