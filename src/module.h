/* SPDX-License-Identifier: GPL-2.0 */
/* The module's device table, shared by module load and the control device. */
#ifndef LB_MODULE_H
#define LB_MODULE_H

#include "lb.h"

/* Make a device with @cfg; returns its video number or a negative errno. */
int lb_add(const struct lb_config *cfg);
/* Remove device @nr; -ENODEV when it is not ours. */
int lb_remove(int nr);
/* Copy device @nr's settings into @cfg; -ENODEV when it is not ours. */
int lb_query(int nr, struct lb_config *cfg);
/* The settings a new device starts from: the module parameters' (one place). */
void lb_module_defaults(struct lb_config *cfg);

int lb_ctldev_register(void);
void lb_ctldev_unregister(void);

#endif /* LB_MODULE_H */
