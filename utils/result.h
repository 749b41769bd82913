// SPDX-License-Identifier: GPL-2.0
// Expected<T, E>: a value or an error (std::expected is C++23), plus the
// error types shared by the tool: Error (a failed operation) and UsageError.
#ifndef V4L2LOOPBACK_CTL_RESULT_H
#define V4L2LOOPBACK_CTL_RESULT_H

#include <string>
#include <utility>
#include <variant>

namespace v4l2lb {

// A failed operation: which target (device node, file), which operation
// (ioctl name, "open", ...), the errno (0 if none) and, optionally, a
// human detail that replaces the errno text and a hint saying what to change.
struct Error {
	std::string target;
	std::string op;
	int err = 0;
	std::string detail;
	std::string hint;

	// "TARGET: OP: ERRNO-TEXT: HINT" (parts that are empty are left out).
	std::string message() const;
};

// A command line the parser rejects (exit code 2).
struct UsageError {
	std::string message;
};

template <typename T, typename E>
class Expected {
public:
	Expected(T value) : v_(std::in_place_index<0>, std::move(value)) {}
	Expected(E error) : v_(std::in_place_index<1>, std::move(error)) {}

	bool ok() const { return v_.index() == 0; }
	explicit operator bool() const { return ok(); }

	T &value() & { return std::get<0>(v_); }
	const T &value() const & { return std::get<0>(v_); }
	T &&value() && { return std::get<0>(std::move(v_)); }
	T &operator*() & { return value(); }
	const T &operator*() const & { return value(); }
	T *operator->() { return &value(); }
	const T *operator->() const { return &value(); }

	E &error() & { return std::get<1>(v_); }
	const E &error() const & { return std::get<1>(v_); }

private:
	std::variant<T, E> v_;
};

template <typename T>
using Result = Expected<T, Error>;
using Status = Result<std::monostate>;

template <typename T>
using Parsed = Expected<T, UsageError>;

inline Status ok_status()
{
	return Status(std::monostate{});
}

} // namespace v4l2lb

#endif
