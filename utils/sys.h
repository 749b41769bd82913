// SPDX-License-Identifier: GPL-2.0
// The system calls the tool makes, behind one interface (so tests can stand
// in for the kernel), and Fd, the move-only owner of a file descriptor.
#ifndef V4L2LOOPBACK_CTL_SYS_H
#define V4L2LOOPBACK_CTL_SYS_H

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "result.h"

namespace v4l2lb {

// Every call returns >= 0 on success or -errno on failure.
class Sys {
public:
	virtual ~Sys() = default;
	virtual int open(const std::string &path, int flags) = 0;
	virtual void close(int fd) = 0;
	virtual int ioctl(int fd, unsigned long request, void *arg) = 0;
	// One write() call: a loopback device takes each write as one frame.
	virtual long write(int fd, const void *data, std::size_t size) = 0;
	// Whole small files (sysfs attributes).
	virtual int read_file(const std::string &path, std::string &out) = 0;
	virtual int write_file(const std::string &path, std::string_view data) = 0;
	// Entry names of a directory, without "." and "..".
	virtual int list_dir(const std::string &path, std::vector<std::string> &names) = 0;
	virtual int realpath(const std::string &path, std::string &out) = 0;
};

// The real thing.
class RealSys final : public Sys {
public:
	int open(const std::string &path, int flags) override;
	void close(int fd) override;
	int ioctl(int fd, unsigned long request, void *arg) override;
	long write(int fd, const void *data, std::size_t size) override;
	int read_file(const std::string &path, std::string &out) override;
	int write_file(const std::string &path, std::string_view data) override;
	int list_dir(const std::string &path, std::vector<std::string> &names) override;
	int realpath(const std::string &path, std::string &out) override;
};

// Owns one file descriptor; closes it on destruction: through the Sys it was
// opened with, or with close(2) when it came from a plain system call (the
// test programs use it so). Move-only.
class Fd {
public:
	Fd() = default;
	Fd(Sys &sys, int fd) : sys_(&sys), fd_(fd) {}
	explicit Fd(int fd) : fd_(fd) {}
	~Fd() { reset(); }
	Fd(const Fd &) = delete;
	Fd &operator=(const Fd &) = delete;
	Fd(Fd &&other) noexcept : sys_(other.sys_), fd_(other.fd_) { other.fd_ = -1; }
	Fd &operator=(Fd &&other) noexcept;

	int get() const { return fd_; }
	bool valid() const { return fd_ >= 0; }
	explicit operator bool() const { return valid(); }
	// Gives the descriptor up without closing it.
	int release();
	// Closes the descriptor held, then holds FD (a plain one, closed with close(2)).
	void reset(int fd = -1);

private:
	Sys *sys_ = nullptr;
	int fd_ = -1;
};

// open(2) through SYS; the error names PATH and "open".
Result<Fd> open_fd(Sys &sys, const std::string &path, int flags);

} // namespace v4l2lb

#endif
