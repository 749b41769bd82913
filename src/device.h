/* SPDX-License-Identifier: GPL-2.0 */
/* Announcing a device's changes to userspace (device.c). */
#ifndef LB_DEVICE_H
#define LB_DEVICE_H

#include "lb.h"

/*
 * The format or frame interval readers are told changed: send udev one
 * KOBJ_CHANGE uevent if the node announces CAPTURE. Called with dev->lock
 * held.
 */
void lb_dev_format_changed(struct lb_dev *dev);

#endif /* LB_DEVICE_H */
