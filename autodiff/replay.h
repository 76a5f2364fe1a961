/* Replayed runs of a compiled program on a Vulkan device (autodiff/replay.c,
 * docs/gpu.md "Replayed runs"): the first run of a binding is captured
 * (gpu/capture.c), later runs of that binding record the capture again
 * between copies of their inputs in and their outputs out. */
#ifndef TG_AUTODIFF_REPLAY_H
#define TG_AUTODIFF_REPLAY_H

#include "tensor/registry.h"

typedef struct tg_replay_set tg_replay_set;
typedef struct tg_replay_capture tg_replay_capture;

/* A program's recordings: n_in inputs, n_out outputs, n_sym symbols. */
tg_replay_set *tg__replay_new(int n_in, int n_out, int n_sym);
void tg__replay_free(tg_replay_set *s);

/* Runs binding vals from its recording on dev, when there is one: true,
 * out[] new references (not handed out) and *st the status; false when
 * there is none (nothing done). */
bool tg__replay_run(tg_replay_set *s, tg_device dev, const int64_t *vals, tg_tensor *const *in, tg_tensor **out,
                    tg_status *st);

/* Starts capturing a run of binding vals on dev: use[i] is where the run
 * must read input i (a buffer of the recording holding a copy of in[i]);
 * NULL when this run is not captured (use[] untouched): replays are off
 * for the program, the binding is known not worth replaying, or the
 * device cannot capture now. */
tg_replay_capture *tg__replay_begin(tg_replay_set *s, tg_device dev, const int64_t *vals, tg_tensor *const *in,
                                    tg_tensor **use);
/* Ends the capture of a run that returned status run_st with outputs out[]
 * (owned references); keep[0..n_keep) are device tensors its commands read
 * that the program may drop later (its constants): the recording holds
 * them. When the run is kept for replay, out[] are replaced by copies.
 * Submits the device's batch either way. */
tg_status tg__replay_end(tg_replay_set *s, tg_replay_capture *c, const int64_t *vals, int n_keep,
                         tg_tensor *const *keep, tg_tensor **out, tg_status run_st);

#endif
