/* Devices. CPU is device 0 of TG_CPU; Vulkan devices are numbered in the
 * loader's order. An op runs where its inputs live; mixing devices is an error. */
#ifndef TANGENT_DEVICE_H
#define TANGENT_DEVICE_H

#include "tangent/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { TG_CPU, TG_VULKAN } tg_device_kind;
#define TG_NUM_DEVICE_KINDS 2
typedef struct { tg_device_kind kind; int index; } tg_device;
int        tg_device_count(tg_device_kind kind);   /* 0 when none (no loader, no driver) */
tg_device  tg_device_of(const tg_tensor *t);
tg_tensor *tg_to_device(tg_tensor *t, tg_device dev);  /* new reference; a copy unless already there */
tg_status  tg_synchronize(void);                        /* wait for all queued device work */
/* The calling thread's default device: where tg_zeros, tg_ones, tg_full,
 * tg_empty, tg_from_data, tg_scalar and the random factories create. Each
 * thread starts from TANGENT_DEVICE ("cpu", "vulkan", "vulkan:N"; the CPU
 * when unset). Setting a device that does not exist is TG_ERR_DEVICE and
 * changes nothing. */
tg_status  tg_set_default_device(tg_device dev);
tg_device  tg_default_device(void);

#ifdef __cplusplus
}
#endif
/* declarations complete: location.h may now define this header's macros */
#define TG__DECLARED_TANGENT_DEVICE_H
#include "tangent/location.h"
#endif
