// SPDX-License-Identifier: GPL-2.0
/*
 * lb-uevent: print the kernel's uevents, one line each, as they arrive: what
 * `udevadm monitor --kernel` shows, but it also works in the test VM's
 * chroot, where udevadm refuses to monitor.
 *
 *   lb-uevent [--subsystem NAME] [--ready FILE]
 *
 * Each event: "ACTION DEVPATH SUBSYSTEM" (e.g. "change
 * /devices/virtual/video4linux/video30 video4linux"), flushed at once.
 * --subsystem keeps only that subsystem's events; --ready creates FILE once
 * the socket listens (so a test starts counting from a known point).
 * Runs until killed. Exit: 1 on a socket error, 2 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* kernel uevents go to netlink group 1 (udevd re-broadcasts on group 2) */
#define KERNEL_GROUP 1

static int usage(void)
{
	fprintf(stderr, "usage: lb-uevent [--subsystem NAME] [--ready FILE]\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct sockaddr_nl addr = { .nl_family = AF_NETLINK, .nl_groups = KERNEL_GROUP };
	const char *subsystem = NULL, *ready = NULL;
	static char buf[16384];
	int i, sock, bufsize = 1 << 20;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--subsystem") && i + 1 < argc)
			subsystem = argv[++i];
		else if (!strcmp(argv[i], "--ready") && i + 1 < argc)
			ready = argv[++i];
		else
			return usage();
	}
	sock = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
	if (sock < 0) {
		fprintf(stderr, "lb-uevent: socket(NETLINK_KOBJECT_UEVENT): %s\n", strerror(errno));
		return 1;
	}
	/* a burst of events must not be lost while we print */
	setsockopt(sock, SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof(bufsize));
	if (bind(sock, (struct sockaddr *)&addr, sizeof(addr))) {
		fprintf(stderr, "lb-uevent: bind(group %d): %s\n", KERNEL_GROUP, strerror(errno));
		return 1;
	}
	if (ready) {
		int fd = open(ready, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		if (fd < 0) {
			fprintf(stderr, "lb-uevent: %s: %s\n", ready, strerror(errno));
			return 1;
		}
		close(fd);
	}
	for (;;) {
		const char *action = "?", *devpath = "?", *subsys = "?";
		ssize_t n = recv(sock, buf, sizeof(buf) - 1, 0);
		char *p;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "lb-uevent: recv: %s\n", strerror(errno));
			return 1;
		}
		buf[n] = 0;
		/* "action@devpath\0KEY=value\0..." */
		for (p = buf + strlen(buf) + 1; p < buf + n; p += strlen(p) + 1) {
			if (!strncmp(p, "ACTION=", 7))
				action = p + 7;
			else if (!strncmp(p, "DEVPATH=", 8))
				devpath = p + 8;
			else if (!strncmp(p, "SUBSYSTEM=", 10))
				subsys = p + 10;
		}
		if (subsystem && strcmp(subsystem, subsys))
			continue;
		printf("%s %s %s\n", action, devpath, subsys);
		fflush(stdout);
	}
}
