// SPDX-License-Identifier: GPL-2.0
// The real system calls behind Sys, and Fd.
#include "sys.h"

#include <cerrno>
#include <dirent.h>
#include <fcntl.h>
#include <memory>
#include <sys/ioctl.h>
#include <unistd.h>

#include "errors.h"

namespace v4l2lb {

namespace {

struct DirCloser {
	void operator()(DIR *dir) const { closedir(dir); }
};

struct FreeDeleter {
	void operator()(char *p) const { free(p); }
};

} // namespace

int RealSys::open(const std::string &path, int flags)
{
	int fd;
	do
		fd = ::open(path.c_str(), flags | O_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	return fd < 0 ? -errno : fd;
}

void RealSys::close(int fd)
{
	::close(fd);
}

int RealSys::ioctl(int fd, unsigned long request, void *arg)
{
	int ret;
	do
		ret = ::ioctl(fd, request, arg);
	while (ret < 0 && errno == EINTR);
	return ret < 0 ? -errno : ret;
}

long RealSys::write(int fd, const void *data, std::size_t size)
{
	ssize_t ret;
	do
		ret = ::write(fd, data, size);
	while (ret < 0 && errno == EINTR);
	return ret < 0 ? -errno : static_cast<long>(ret);
}

int RealSys::read_file(const std::string &path, std::string &out)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return fd;
	Fd owner(*this, fd);
	out.clear();
	char buf[4096];
	for (;;) {
		ssize_t n = ::read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		out.append(buf, static_cast<std::size_t>(n));
	}
}

int RealSys::write_file(const std::string &path, std::string_view data)
{
	int fd = open(path, O_WRONLY);
	if (fd < 0)
		return fd;
	Fd owner(*this, fd);
	long n = write(fd, data.data(), data.size());
	if (n < 0)
		return static_cast<int>(n);
	return static_cast<std::size_t>(n) == data.size() ? 0 : -EIO;
}

int RealSys::list_dir(const std::string &path, std::vector<std::string> &names)
{
	std::unique_ptr<DIR, DirCloser> dir(opendir(path.c_str()));
	if (!dir)
		return -errno;
	names.clear();
	while (const dirent *ent = readdir(dir.get())) {
		std::string name(ent->d_name);
		if (name != "." && name != "..")
			names.push_back(std::move(name));
	}
	return 0;
}

int RealSys::realpath(const std::string &path, std::string &out)
{
	std::unique_ptr<char, FreeDeleter> resolved(::realpath(path.c_str(), nullptr));
	if (!resolved)
		return -errno;
	out = resolved.get();
	return 0;
}

Fd &Fd::operator=(Fd &&other) noexcept
{
	if (this != &other) {
		reset();
		sys_ = other.sys_;
		fd_ = other.fd_;
		other.fd_ = -1;
	}
	return *this;
}

void Fd::reset(int fd)
{
	if (fd_ >= 0) {
		if (sys_)
			sys_->close(fd_);
		else
			::close(fd_);
	}
	sys_ = nullptr;
	fd_ = fd;
}

int Fd::release()
{
	const int fd = fd_;
	fd_ = -1;
	return fd;
}

Result<Fd> open_fd(Sys &sys, const std::string &path, int flags)
{
	int fd = sys.open(path, flags);
	if (fd < 0)
		return Error{path, "open", -fd, "", errno_hint("open", path, -fd)};
	return Fd(sys, fd);
}

} // namespace v4l2lb
