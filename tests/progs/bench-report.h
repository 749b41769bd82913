// SPDX-License-Identifier: GPL-2.0
// The report half of lb-bench: reads the JSON lines that `lb-bench run` printed
// for two drivers (rows matched by "id") and writes results.json (both rows
// side by side with ours/old ratios), results.md (the table) and chart.dat
// (for tests/bench-chart.gp). V4L2-free; header-only like the other test
// program helpers.
#pragma once

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace lb::bench {

struct ReportOpts {
	std::string ours, old, meta, out;
};

inline std::string json_str(std::string_view s)
{
	std::string r = "\"";
	for (char c : s) {
		if (c == '"' || c == '\\') {
			r += '\\';
			r += c;
		} else if (static_cast<unsigned char>(c) < 0x20) {
			char b[8];
			std::snprintf(b, sizeof b, "\\u%04x", c);
			r += b;
		} else {
			r += c;
		}
	}
	return r + "\"";
}

inline std::string fmt_num(double v, int prec = 2)
{
	if (!std::isfinite(v))
		return "null";
	char b[64];
	std::snprintf(b, sizeof b, "%.*f", prec, v);
	return b;
}

// ------------------------------------------------------------------ report

// A flat JSON object: key -> raw value text (strings keep their quotes).
using Obj = std::map<std::string, std::string>;

// Parses one line holding a flat JSON object (string, number, true/false/null
// values). Returns false on anything else.
inline bool parse_obj(const std::string &s, Obj &o)
{
	size_t i = 0;
	auto ws = [&] {
		while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i])))
			i++;
	};
	auto str = [&](std::string &raw) {
		if (i >= s.size() || s[i] != '"')
			return false;
		const size_t b = i++;
		while (i < s.size() && s[i] != '"')
			i += s[i] == '\\' ? 2 : 1;
		if (i >= s.size())
			return false;
		raw = s.substr(b, ++i - b);
		return true;
	};
	ws();
	if (i >= s.size() || s[i++] != '{')
		return false;
	for (;;) {
		ws();
		if (i < s.size() && s[i] == '}')
			return true;
		std::string k, v;
		if (!str(k))
			return false;
		ws();
		if (i >= s.size() || s[i++] != ':')
			return false;
		ws();
		if (i < s.size() && s[i] == '"') {
			if (!str(v))
				return false;
		} else {
			const size_t b = i;
			while (i < s.size() && s[i] != ',' && s[i] != '}')
				i++;
			v = s.substr(b, i - b);
			while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back())))
				v.pop_back();
		}
		o[k.substr(1, k.size() - 2)] = v;
		ws();
		if (i < s.size() && s[i] == ',') {
			i++;
			continue;
		}
		if (i < s.size() && s[i] == '}')
			return true;
		return false;
	}
}

inline std::string unquote(const std::string &raw)
{
	if (raw.size() < 2 || raw.front() != '"')
		return raw;
	std::string r;
	for (size_t i = 1; i + 1 < raw.size(); i++) {
		if (raw[i] == '\\' && i + 2 < raw.size()) {
			const char c = raw[++i];
			if (c == 'u' && i + 4 < raw.size()) {
				r += static_cast<char>(
					std::stoi(raw.substr(i + 1, 4), nullptr, 16));
				i += 4;
			} else {
				r += c == 'n' ? '\n' : c == 't' ? '\t' : c;
			}
		} else {
			r += raw[i];
		}
	}
	return r;
}

inline std::optional<double> num(const Obj *o, const std::string &k)
{
	if (!o)
		return std::nullopt;
	auto it = o->find(k);
	if (it == o->end() || it->second.empty() || it->second == "null" || it->second[0] == '"')
		return std::nullopt;
	char *end = nullptr;
	const double v = std::strtod(it->second.c_str(), &end);
	if (*end)
		return std::nullopt;
	return v;
}

inline std::string get(const Obj *o, const std::string &k)
{
	if (!o)
		return "";
	auto it = o->find(k);
	return it == o->end() ? "" : unquote(it->second);
}

inline std::vector<Obj> read_rows(const std::string &path)
{
	std::vector<Obj> rows;
	if (path.empty())
		return rows;
	std::ifstream f(path);
	if (!f)
		throw std::runtime_error("cannot read " + path);
	std::string line;
	while (std::getline(f, line)) {
		Obj o;
		if (line.empty() || line[0] != '{')
			continue;
		if (!parse_obj(line, o) || !o.count("id"))
			throw std::runtime_error(path + ": not a row: " + line.substr(0, 80));
		rows.push_back(std::move(o));
	}
	return rows;
}

inline std::string obj_json(const Obj &o)
{
	std::string r = "{";
	for (const auto &[k, v] : o)
		r += (r.size() > 1 ? ", " : "") + json_str(k) + ": " + v;
	return r + "}";
}

inline std::string fixed(std::optional<double> v, int prec)
{
	if (!v)
		return "–";
	char b[64];
	std::snprintf(b, sizeof b, "%.*f", prec, *v);
	return b;
}

inline std::optional<double> ratio(std::optional<double> a, std::optional<double> b)
{
	if (!a || !b || *b == 0)
		return std::nullopt;
	return *a / *b;
}

inline std::string label(const Obj &r)
{
	const std::string fps = get(&r, "fps");
	return get(&r, "fmt") + " " + get(&r, "width") + "x" + get(&r, "height") + " " +
	       (fps == "0" ? std::string("full") : fps + "fps") + " " + get(&r, "readers") + "r " +
	       get(&r, "wio") + "→" + get(&r, "rio");
}

// Short form for the chart's axis.
inline std::string short_label(const Obj &r)
{
	const std::string fps = get(&r, "fps");
	std::string size = get(&r, "height");
	size = size == "2160" ? "4K" : size + "p";
	const std::string fmt = get(&r, "fmt") == "MJPEG" ? "MJ" : "YU";
	return fmt + " " + size + " " + (fps == "0" ? std::string("max") : fps) + " " +
	       get(&r, "readers") + "r " + get(&r, "wio").substr(0, 2) + ">" +
	       get(&r, "rio").substr(0, 2);
}

// The VM's speed around a row (MB/s of a memcpy, the slower of before and
// after): two rows compared at different speeds ran under different host load.
inline std::optional<double> speed(const Obj *o)
{
	const auto a = num(o, "vm_speed_before"), b = num(o, "vm_speed_after");
	if (!a || !b)
		return a ? a : b;
	return std::min(*a, *b);
}

// The VM-speed ratio, flagged when the two drivers' halves of a row ran at
// speeds more than 1.5x apart (other VMs on the host): that row's ratios
// say more about the host than about the drivers.
inline std::string speed_cell(std::optional<double> r)
{
	std::string s = fixed(r, 2);
	if (r && (*r > 1.5 || *r < 1 / 1.5))
		s += " ⚠";
	return s;
}

inline std::string bad_frames(const Obj *o)
{
	if (!o || get(o, "status") == "error")
		return "–";
	const auto t = num(o, "torn"), c = num(o, "corrupt"), b = num(o, "badsize"),
		   d = num(o, "dups");
	const auto n = [](std::optional<double> v) { return v ? static_cast<uint64_t>(*v) : 0; };
	std::string s = std::to_string(n(t));
	if (n(c) || n(b) || n(d))
		s += " (+" + std::to_string(n(c) + n(b)) + " bad, " + std::to_string(n(d)) +
		     " dup)";
	return s;
}

inline std::string status_text(const Obj *o)
{
	if (!o)
		return "not run";
	std::string s = get(o, "status");
	const std::string p = get(o, "problems");
	if (!p.empty()) {
		std::string q = p.size() > 140 ? p.substr(0, 137) + "..." : p;
		std::replace(q.begin(), q.end(), '|', '/');
		s += ": " + q;
	}
	return s;
}

inline int run_report(const ReportOpts &o)
{
	const std::vector<Obj> ours = read_rows(o.ours);
	const std::vector<Obj> old = read_rows(o.old);
	std::map<std::string, const Obj *> old_by_id;
	for (const auto &r : old)
		old_by_id[get(&r, "id")] = &r;
	Obj meta;
	if (!o.meta.empty()) {
		std::ifstream f(o.meta);
		std::string line;
		while (std::getline(f, line)) {
			const auto eq = line.find('=');
			if (eq != std::string::npos)
				meta[line.substr(0, eq)] = json_str(line.substr(eq + 1));
		}
	}

	// results.json
	{
		std::ofstream j(o.out + "/results.json");
		j << "{\n  \"meta\": " << obj_json(meta) << ",\n  \"rows\": [\n";
		for (size_t i = 0; i < ours.size(); i++) {
			const Obj &a = ours[i];
			const auto it = old_by_id.find(get(&a, "id"));
			const Obj *b = it == old_by_id.end() ? nullptr : it->second;
			Obj rat;
			for (const char *k :
			     {"delivered_fps", "written_fps", "cpu_us_per_frame",
			      "sys_us_per_frame", "lat_p50_us", "lat_p99_us", "lat_p99_later_us",
			      "call_p50_us", "vmalloc_kb", "intact_fps", "cpu_us_per_intact_frame",
			      "lat_p99_all_us"})
				rat[k] = fmt_num(ratio(num(&a, k), num(b, k)).value_or(NAN), 3);
			rat["vm_speed"] = fmt_num(ratio(speed(&a), speed(b)).value_or(NAN), 3);
			j << "    {\"id\": " << json_str(get(&a, "id"))
			  << ", \"label\": " << json_str(label(a))
			  << ",\n     \"ours\": " << obj_json(a)
			  << ",\n     \"old\": " << (b ? obj_json(*b) : "null")
			  << ",\n     \"ratio_ours_over_old\": " << obj_json(rat) << "}"
			  << (i + 1 < ours.size() ? "," : "") << "\n";
		}
		j << "  ]\n}\n";
		if (!j)
			throw std::runtime_error("cannot write " + o.out + "/results.json");
	}

	// results.md
	{
		std::ofstream m(o.out + "/results.md");
		m << "| # | row | written fps ours / old | delivered fps per reader ours / old | ratio "
		     "| CPU ms per delivered frame ours / old | ratio | latency p50 / p99 ms ours "
		     "| old | p99 ratio | writer's call p50 ms ours / old | torn ours / old | dropped ours / old | kernel MB ours / old "
		     "| VM speed ours / old | status ours | status old |\n";
		m << "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
		std::ostringstream intact; // the second table's rows
		int n = 0;
		for (const auto &a : ours) {
			const auto it = old_by_id.find(get(&a, "id"));
			const Obj *b = it == old_by_id.end() ? nullptr : it->second;
			const bool b_ran = b && get(b, "status") != "error";
			const Obj *bb = b_ran ? b : nullptr;
			auto ms = [](std::optional<double> us) {
				return us ? std::optional<double>(*us / 1000.0) : std::nullopt;
			};
			auto mb = [](std::optional<double> kb) {
				return kb ? std::optional<double>(*kb / 1024.0) : std::nullopt;
			};
			auto rat = [&](const char *k, int prec) {
				return fixed(ratio(num(&a, k), num(bb, k)), prec);
			};
			// "ours / old" of field @k, through @unit (ms, mb or as is)
			auto both = [&](const char *k, int prec, auto unit) {
				return fixed(unit(num(&a, k)), prec) + " / " +
				       fixed(unit(num(bb, k)), prec);
			};
			auto as_is = [](std::optional<double> v) { return v; };
			m << "| " << ++n << " | " << label(a) << " | "
			  << both("written_fps", 1, as_is) << " | "
			  << both("delivered_fps", 1, as_is) << " | " << rat("delivered_fps", 2)
			  << " | " << both("cpu_us_per_frame", 2, ms) << " | "
			  << rat("cpu_us_per_frame", 2) << " | "
			  << fixed(ms(num(&a, "lat_p50_us")), 1) << " / "
			  << fixed(ms(num(&a, "lat_p99_us")), 1) << " | "
			  << fixed(ms(num(bb, "lat_p50_us")), 1) << " / "
			  << fixed(ms(num(bb, "lat_p99_us")), 1) << " | " << rat("lat_p99_us", 2)
			  << " | " << both("call_p50_us", 2, ms) << " | " << bad_frames(&a) << " / "
			  << bad_frames(bb) << " | " << both("dropped", 0, as_is) << " | "
			  << both("vmalloc_kb", 1, mb) << " | "
			  << speed_cell(ratio(speed(&a), speed(b))) << " | " << status_text(&a)
			  << " | " << status_text(b) << " |\n";
			intact << "| " << n << " | " << label(a) << " | "
			       << both("intact_fps", 1, as_is) << " | " << rat("intact_fps", 2)
			       << " | " << both("cpu_us_per_intact_frame", 2, ms) << " | "
			       << rat("cpu_us_per_intact_frame", 2) << " | "
			       << both("lat_p99_all_us", 1, ms) << " | " << rat("lat_p99_all_us", 2)
			       << " |\n";
		}
		// The columns above count a torn frame as delivered and leave it
		// out of the latency: a driver whose late frames tear loses them
		// from its tail. The same rows counted as a viewer sees them.
		m << "\nCounting torn frames as what they are: frames a viewer can use "
		     "(distinct, neither torn nor corrupt), and the latency of every frame "
		     "received, torn or not (its header's stamp).\n\n"
		     "| # | row | intact fps per reader ours / old | ratio "
		     "| CPU ms per intact frame ours / old | ratio "
		     "| p99 ms of all frames ours / old | ratio |\n"
		     "|---|---|---|---|---|---|---|---|\n"
		  << intact.str();
		if (!m)
			throw std::runtime_error("cannot write " + o.out + "/results.md");
	}

	// chart.dat: index, label, then ours/old pairs (NaN when missing)
	{
		std::ofstream c(o.out + "/chart.dat");
		c << "# row label ours_fps old_fps ours_cpu_ms old_cpu_ms ours_p99_ms old_p99_ms\n";
		int n = 0;
		for (const auto &a : ours) {
			const auto it = old_by_id.find(get(&a, "id"));
			const Obj *b = it == old_by_id.end() ? nullptr : it->second;
			const Obj *bb = b && get(b, "status") != "error" ? b : nullptr;
			auto v = [](std::optional<double> x, double scale) {
				return x && *x > 0 ? fmt_num(*x * scale, 4) : std::string("NaN");
			};
			std::string mark;
			if (get(&a, "status") != "ok")
				mark += " ours:" + get(&a, "status");
			if (b && get(b, "status") != "ok")
				mark += " old:" + get(b, "status");
			if (speed_cell(ratio(speed(&a), speed(b))).find("⚠") != std::string::npos)
				mark += " (noisy)";
			++n;
			c << n << " \"" << n << " " << short_label(a) << mark << "\" "
			  << v(num(&a, "delivered_fps"), 1) << " " << v(num(bb, "delivered_fps"), 1)
			  << " " << v(num(&a, "cpu_us_per_frame"), 1e-3) << " "
			  << v(num(bb, "cpu_us_per_frame"), 1e-3) << " "
			  << v(num(&a, "lat_p99_us"), 1e-3) << " " << v(num(bb, "lat_p99_us"), 1e-3)
			  << "\n";
		}
	}
	std::printf("report: %zu rows (%zu of the old driver) -> %s/results.{json,md}, chart.dat\n",
		    ours.size(), old.size(), o.out.c_str());
	return 0;
}

} // namespace lb::bench
