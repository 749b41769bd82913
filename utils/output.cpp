// SPDX-License-Identifier: GPL-2.0
// Scriptable output: JSON values and aligned text tables.
#include "output.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace v4l2lb {

Json &Json::set(std::string key, Json value)
{
	std::get<Object>(v_).emplace_back(std::move(key), std::move(value));
	return *this;
}

Json &Json::push(Json value)
{
	std::get<Array>(v_).push_back(std::move(value));
	return *this;
}

std::string Json::dump() const
{
	std::string out;
	dump_to(out, 0);
	return out;
}

void Json::dump_to(std::string &out, int depth) const
{
	const std::string pad(static_cast<std::size_t>(depth + 1) * 2, ' ');
	const std::string end_pad(static_cast<std::size_t>(depth) * 2, ' ');
	if (std::holds_alternative<std::monostate>(v_)) {
		out += "null";
	} else if (const bool *b = std::get_if<bool>(&v_)) {
		out += *b ? "true" : "false";
	} else if (const std::int64_t *n = std::get_if<std::int64_t>(&v_)) {
		out += std::to_string(*n);
	} else if (const double *d = std::get_if<double>(&v_)) {
		if (!std::isfinite(*d)) {
			out += "null";
		} else {
			char buf[32];
			std::snprintf(buf, sizeof(buf), "%.10g", *d);
			out += buf;
		}
	} else if (const std::string *s = std::get_if<std::string>(&v_)) {
		out += json_quote(*s);
	} else if (const Array *a = std::get_if<Array>(&v_)) {
		if (a->empty()) {
			out += "[]";
			return;
		}
		out += "[\n";
		for (std::size_t i = 0; i < a->size(); i++) {
			out += pad;
			(*a)[i].dump_to(out, depth + 1);
			out += i + 1 < a->size() ? ",\n" : "\n";
		}
		out += end_pad + "]";
	} else if (const Object *o = std::get_if<Object>(&v_)) {
		if (o->empty()) {
			out += "{}";
			return;
		}
		out += "{\n";
		for (std::size_t i = 0; i < o->size(); i++) {
			out += pad + json_quote((*o)[i].first) + ": ";
			(*o)[i].second.dump_to(out, depth + 1);
			out += i + 1 < o->size() ? ",\n" : "\n";
		}
		out += end_pad + "}";
	}
}

namespace {

// Length of the valid UTF-8 sequence at S[I], or 0 if it is not valid.
std::size_t utf8_sequence(std::string_view s, std::size_t i)
{
	const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
	const unsigned char c = byte(i);
	std::size_t len;
	std::uint32_t cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (i + len > s.size())
		return 0;
	for (std::size_t k = 1; k < len; k++) {
		if ((byte(i + k) & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (byte(i + k) & 0x3f);
	}
	// Overlong forms, surrogates, beyond U+10FFFF.
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

} // namespace

std::string json_quote(std::string_view s)
{
	std::string out = "\"";
	for (std::size_t i = 0; i < s.size();) {
		const unsigned char c = static_cast<unsigned char>(s[i]);
		switch (c) {
		case '"':
			out += "\\\"";
			break;
		case '\\':
			out += "\\\\";
			break;
		case '\b':
			out += "\\b";
			break;
		case '\f':
			out += "\\f";
			break;
		case '\n':
			out += "\\n";
			break;
		case '\r':
			out += "\\r";
			break;
		case '\t':
			out += "\\t";
			break;
		default:
			if (c < 0x20 || c == 0x7f) {
				char buf[8];
				std::snprintf(buf, sizeof(buf), "\\u%04x", c);
				out += buf;
			} else if (c < 0x80) {
				out += static_cast<char>(c);
			} else if (std::size_t len = utf8_sequence(s, i)) {
				out.append(s.substr(i, len));
				i += len;
				continue;
			} else {
				out += "\\ufffd";
			}
		}
		i++;
	}
	out += "\"";
	return out;
}

namespace {

std::size_t display_width(std::string_view s)
{
	return static_cast<std::size_t>(std::count_if(s.begin(), s.end(), [](char c) {
		return (static_cast<unsigned char>(c) & 0xc0) != 0x80;
	}));
}

std::string clean_cell(std::string_view s)
{
	std::string out(s);
	for (char &c : out)
		if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
			c = '?';
	return out;
}

} // namespace

std::string format_table(const std::vector<std::string> &headers,
			 const std::vector<std::vector<std::string>> &rows)
{
	std::vector<std::vector<std::string>> all;
	all.push_back(headers);
	for (const auto &row : rows) {
		std::vector<std::string> cells;
		for (std::size_t c = 0; c < headers.size(); c++)
			cells.push_back(c < row.size() ? clean_cell(row[c]) : "");
		all.push_back(std::move(cells));
	}
	std::vector<std::size_t> widths(headers.size(), 0);
	for (const auto &row : all)
		for (std::size_t c = 0; c < row.size(); c++)
			widths[c] = std::max(widths[c], display_width(row[c]));

	std::string out;
	for (const auto &row : all) {
		std::string line;
		for (std::size_t c = 0; c < row.size(); c++) {
			line += row[c];
			if (c + 1 < row.size())
				line += std::string(widths[c] - display_width(row[c]) + 2, ' ');
		}
		while (!line.empty() && line.back() == ' ')
			line.pop_back();
		out += line + "\n";
	}
	return out;
}

} // namespace v4l2lb
