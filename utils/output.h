// SPDX-License-Identifier: GPL-2.0
// Scriptable output: a small JSON value with correct escaping, and aligned
// text tables.
#ifndef V4L2LOOPBACK_CTL_OUTPUT_H
#define V4L2LOOPBACK_CTL_OUTPUT_H

#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace v4l2lb {

class Json {
public:
	using Array = std::vector<Json>;
	using Object = std::vector<std::pair<std::string, Json>>;

	Json() = default;
	Json(std::nullptr_t) {}
	Json(bool b) : v_(b) {}
	template <std::integral T>
	requires(!std::same_as<T, bool>) Json(T n) : v_(static_cast<std::int64_t>(n)) {}
	Json(double d) : v_(d) {}
	Json(std::string s) : v_(std::move(s)) {}
	Json(std::string_view s) : v_(std::string(s)) {}
	Json(const char *s) : v_(std::string(s)) {}
	Json(Array a) : v_(std::move(a)) {}
	Json(Object o) : v_(std::move(o)) {}

	static Json object() { return Json(Object{}); }
	static Json array() { return Json(Array{}); }

	// Appends KEY (objects keep insertion order); returns *this.
	Json &set(std::string key, Json value);
	// Appends to an array; returns *this.
	Json &push(Json value);

	// Pretty-printed, two-space indent, no trailing newline.
	std::string dump() const;

private:
	void dump_to(std::string &out, int depth) const;

	std::variant<std::monostate, bool, std::int64_t, double, std::string, Array, Object> v_;
};

// S as a JSON string literal with quotes. Control characters are escaped,
// valid UTF-8 is kept, invalid bytes become U+FFFD.
std::string json_quote(std::string_view s);

// Columns separated by two spaces; the last column is not padded; control
// characters in cells are shown as '?'. Ends with a newline per row.
std::string format_table(const std::vector<std::string> &headers,
			 const std::vector<std::vector<std::string>> &rows);

} // namespace v4l2lb

#endif
