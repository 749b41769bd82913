// SPDX-License-Identifier: GPL-2.0
// lb-ioctl: runs a sequence of V4L2 calls on ONE open file descriptor and
// prints one line per command: its result, "ok", or the errno name (EBUSY).
//
//   lb-ioctl -d DEV [-v] [--expect-open ERR] CMD [ARGS] [--expect R] [;] CMD ...
//
// --expect R (R = ok, an errno name, or alternatives "ok|EBUSY") applies to
// the command before it (before the first command: to the first command).
// Exit: 0 if every expectation was met (commands without one never fail
// the run), 1 otherwise, 2 usage. ";", "," and "--" between commands are
// ignored. Commands (TYPE = capture|output, MEM = mmap|userptr|dmabuf):
//   querycap                  driver="..." card="..." bus_info="..." version=0x..
//                             caps=0x.. device_caps=0x..
//   g_fmt TYPE                YUYV 640x480 sizeimage=614400
//   s_fmt TYPE FOURCC WxH     the resulting format, as g_fmt
//   try_fmt TYPE FOURCC WxH   the resulting format, as g_fmt
//   enum_fmt TYPE             YUYV,UYVY,... (fourcc codes)
//   reqbufs TYPE MEM N        ok  (-v: ok count=GRANTED)
//   create_bufs TYPE MEM N BYTES
//                             ok index=FIRST count=GRANTED: CREATE_BUFS of N
//                             buffers of the current format with sizeimage
//                             BYTES (0: the format's)
//   expbuf TYPE INDEX         ok: EXPBUF of buffer INDEX; the dma-buf fd is
//                             kept open until the end
//   querybuf TYPE INDEX       ok length=N offset=N flags=0x..   (mmap)
//   qbuf TYPE INDEX           ok  (mmap; output: bytesused = length)
//   dqbuf TYPE [TIMEOUT_MS]   ok index=I sequence=S bytesused=B flags=0x..
//                             (waits up to TIMEOUT_MS, default 2000; EAGAIN)
//   streamon TYPE | streamoff TYPE
//   g_parm TYPE               1/30   (timeperframe)
//   s_parm TYPE FPS           the resulting timeperframe, as g_parm
//   g_ctrl CTRL               the value;  s_ctrl CTRL VALUE: ok
//                             CTRL: number (0x..) or keep_format,
//                             sustain_framerate, timeout, timeout_image_io
//   g_input | g_output        the index;  s_input N | s_output N: ok
//   enum_input | enum_output  names, comma separated
//   subscribe EVENT [ID]      ok (EVENT: source_change, eos, ctrl, client_usage;
//                             ID: for ctrl the control, as for g_ctrl)
//   dqevent [TIMEOUT_MS]      ok type=0x.. id=.. data0=.. (waits up to TIMEOUT_MS,
//                             default 2000); ctrl events add value=V
//   g_priority                the priority;  s_priority N: ok (VIDIOC_S_PRIORITY)
//   poll in|out|pri [MS]      ok revents=0x..  when poll() reports the event
//                             within MS (default 2000), else EAGAIN
//   write N [ok|half|none]    ok n=N: write() of N bytes of 0x5a; half: only
//                             the first half of them readable, none: none
//                             (the rest is a PROT_NONE mapping: EFAULT)
//   read N [MS]               ok n=BYTES: one read() of up to N bytes, after
//                             poll() reports input within MS (default 2000;
//                             else EAGAIN)
//   drain N [MS]              read N [MS] until it fails: the errno name of
//                             that failure (EAGAIN: no more input), with
//                             frames=K read before it on stdout
//   sleep-ms N                ok
//   mmap INDEX [output]       ok: maps capture buffer INDEX read-write (kept
//                             until munmap or the end, also after close);
//                             output: the OUTPUT (writer's) buffer INDEX
//   check INDEX               ok seq=S: the mapping holds a whole lb-writer
//                             frame of the last DQBUF's bytesused; EBADMSG
//   scribble INDEX            ok: writes 0xA5 over all of the mapping
//   touch INDEX               ok pages=N: writes one byte into each page of the
//                             mapping, in order; SIGBUS page=P when page P
//                             faulted with SIGBUS (--expect SIGBUS)
//                             (touch and munmap take "output" as mmap does)
//                             (INDEX of mmap/check/scribble/touch/munmap may be
//                             "last": the buffer of the last DQBUF)
//   munmap INDEX              ok
//   close                     ok: closes the fd (later ioctls get EBADF)
// -v adds detail to some lines (bytesperline, capability names) and prints
// the full error message of failed commands on stderr.
#include <charconv>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <sys/mman.h>
#include <unistd.h>

#include "cli.h"
#include "frame.h"
#include "v4l2util.h"

namespace {

using namespace lb;

struct Cmd {
	std::string name;
	std::vector<std::string> args;
	std::optional<std::set<int>> expect;
	std::string text() const
	{
		std::string s = name;
		for (const auto &a : args)
			s += " " + a;
		return s;
	}
};

struct Spec {
	const char *name;
	int min_args, max_args;
};

constexpr Spec kSpecs[] = {
	{"querycap", 0, 0},    {"g_fmt", 1, 1},      {"s_fmt", 3, 3},     {"try_fmt", 3, 3},
	{"enum_fmt", 1, 1},    {"reqbufs", 3, 3},    {"querybuf", 2, 2},  {"qbuf", 2, 2},
	{"dqbuf", 1, 2},       {"streamon", 1, 1},   {"streamoff", 1, 1}, {"g_parm", 1, 1},
	{"s_parm", 2, 2},      {"g_ctrl", 1, 1},     {"s_ctrl", 2, 2},    {"g_input", 0, 0},
	{"s_input", 1, 1},     {"g_output", 0, 0},   {"s_output", 1, 1},  {"enum_input", 0, 0},
	{"enum_output", 0, 0}, {"subscribe", 1, 2},  {"dqevent", 0, 1},   {"sleep-ms", 1, 1},
	{"g_priority", 0, 0},  {"s_priority", 1, 1}, {"poll", 1, 2},      {"write", 1, 2},
	{"mmap", 1, 2},        {"check", 1, 1},      {"scribble", 1, 1},  {"munmap", 1, 2},
	{"close", 0, 0},       {"read", 1, 2},       {"drain", 1, 2},     {"create_bufs", 4, 4},
	{"expbuf", 2, 2},      {"touch", 1, 2},
};

constexpr const char *kUsage =
	"usage: lb-ioctl -d DEV [-v] [--expect-open ERR] CMD [ARGS] [--expect ok|ERRNO] ...\n"
	"  commands: querycap, g_fmt T, s_fmt T FOURCC WxH, try_fmt T FOURCC WxH,\n"
	"  enum_fmt T, reqbufs T mmap|userptr|dmabuf N, create_bufs T MEM N BYTES,\n"
	"  expbuf T I, querybuf T I, qbuf T I,\n"
	"  dqbuf T [MS], streamon T, streamoff T, g_parm T, s_parm T FPS, g_ctrl C,\n"
	"  s_ctrl C V, g_input, s_input N, g_output, s_output N, enum_input,\n"
	"  enum_output, subscribe EVENT [ID], dqevent [MS], poll in|out|pri [MS],\n"
	"  g_priority, s_priority N, write N [ok|half|none], read N [MS],\n"
	"  drain N [MS], sleep-ms N,\n"
	"  mmap I [output], check I, scribble I, touch I [output], munmap I [output], close\n"
	"  (T = capture|output; I of mmap..munmap may be 'last': the last DQBUF's;\n"
	"  --expect also takes SIGBUS, touch's result when a page faulted)\n";

// touch's result when a page faulted with SIGBUS: not an errno, a value
// outside their range that --expect and the result line name "SIGBUS"
constexpr int kSigbus = 0x10000 + SIGBUS;

std::string result_name(int e)
{
	return e == kSigbus ? "SIGBUS" : errno_name(e);
}

std::set<int> parse_expect(std::string_view v)
{
	std::set<int> r;
	size_t pos = 0;
	while (pos <= v.size()) {
		const size_t bar = std::min(v.find('|', pos), v.size());
		const auto name = v.substr(pos, bar - pos);
		const auto e = name == "SIGBUS" ? std::optional<int>(kSigbus)
						: errno_from_name(name);
		if (!e)
			throw UsageError("--expect: unknown errno name '" + std::string(name) +
					 "'");
		r.insert(*e);
		pos = bar + 1;
	}
	return r;
}

struct Options {
	std::string device;
	bool verbose = false;
	std::optional<std::set<int>> expect_open;
	std::vector<Cmd> cmds;
};

Options parse(int argc, char **argv)
{
	Options o;
	Args a(argc, argv);
	std::optional<std::set<int>> pending;
	while (!a.done()) {
		if (a.is("-d", "--device")) {
			o.device = a.value();
		} else if (a.flag("-v", "--verbose")) {
			o.verbose = true;
		} else if (a.is("--expect-open")) {
			o.expect_open = parse_expect(a.value());
		} else if (a.is("--expect")) {
			auto e = parse_expect(a.value());
			if (o.cmds.empty())
				pending = std::move(e);
			else
				o.cmds.back().expect = std::move(e);
		} else if (a.flag("--help", "-h")) {
			throw UsageError("");
		} else {
			const std::string word(a.next());
			if (word == ";" || word == "," || word == "--")
				continue;
			const Spec *spec = nullptr;
			for (const auto &s : kSpecs)
				if (word == s.name)
					spec = &s;
			if (!spec)
				throw UsageError("unknown command '" + word + "'");
			Cmd c{word, {}, std::exchange(pending, std::nullopt)};
			while (static_cast<int>(c.args.size()) < spec->max_args && !a.done()) {
				const std::string_view next = a.peek();
				const bool is_cmd = std::any_of(
					std::begin(kSpecs), std::end(kSpecs),
					[&](const Spec &s) { return next == s.name; });
				if (next.starts_with("-") || next == ";" || next == "," ||
				    (is_cmd && static_cast<int>(c.args.size()) >= spec->min_args))
					break;
				c.args.emplace_back(a.next());
			}
			if (static_cast<int>(c.args.size()) < spec->min_args)
				throw UsageError("'" + word + "' needs " +
						 std::to_string(spec->min_args) + " argument(s)");
			o.cmds.push_back(std::move(c));
		}
	}
	if (o.device.empty())
		throw UsageError("-d DEV is required");
	if (pending)
		throw UsageError("--expect without a command");
	return o;
}

std::string caps_names(uint32_t caps)
{
	struct Bit {
		uint32_t bit;
		const char *name;
	};
	static constexpr Bit bits[] = {
		{V4L2_CAP_VIDEO_CAPTURE, "capture"},
		{V4L2_CAP_VIDEO_OUTPUT, "output"},
		{V4L2_CAP_VIDEO_CAPTURE_MPLANE, "capture-mplane"},
		{V4L2_CAP_VIDEO_OUTPUT_MPLANE, "output-mplane"},
		{V4L2_CAP_VIDEO_M2M, "m2m"},
		{V4L2_CAP_READWRITE, "readwrite"},
		{V4L2_CAP_STREAMING, "streaming"},
		{V4L2_CAP_EXT_PIX_FORMAT, "ext-pix-format"},
		{V4L2_CAP_DEVICE_CAPS, "device-caps"},
	};
	std::string s;
	for (const auto &b : bits)
		if (caps & b.bit)
			s += (s.empty() ? "" : ",") + std::string(b.name);
	return s;
}

class Runner {
public:
	Runner(const Options &o, StopSignal &stop) : o_(o), stop_(stop) {}

	int run()
	{
		Status open = dev_.open(o_.device, O_RDWR | O_NONBLOCK);
		if (o_.expect_open) {
			std::printf("%s\n", errno_name(open.err).c_str());
			std::fflush(stdout);
			if (!o_.expect_open->contains(open.err)) {
				std::fprintf(stderr, "lb-ioctl: open %s: expected %s, got %s\n",
					     o_.device.c_str(),
					     expect_text(*o_.expect_open).c_str(),
					     open.ok() ? "ok" : open.msg.c_str());
				return 1;
			}
		} else if (!open) {
			std::printf("%s\n", errno_name(open.err).c_str());
			std::fprintf(stderr, "lb-ioctl: %s\n", open.msg.c_str());
			return 1;
		}
		if (!open)
			return 0; // failed as expected: nothing to run the commands on
		bool all_met = true;
		for (const Cmd &c : o_.cmds) {
			std::string out;
			Status s = exec(c, out);
			if (s)
				std::printf("%s\n", out.empty() ? "ok" : out.c_str());
			else if (s.err == kSigbus) // with the page: "SIGBUS page=P"
				std::printf("SIGBUS %s\n", out.c_str());
			else
				std::printf("%s\n", errno_name(s.err).c_str());
			std::fflush(stdout);
			const bool met = !c.expect || c.expect->contains(s.err);
			if (!met) {
				all_met = false;
				std::fprintf(stderr, "lb-ioctl: %s: expected %s, got %s\n",
					     c.text().c_str(), expect_text(*c.expect).c_str(),
					     s ? "ok" : s.msg.c_str());
			} else if (!s && o_.verbose) {
				std::fprintf(stderr, "lb-ioctl: %s: %s\n", c.text().c_str(),
					     s.msg.c_str());
			}
		}
		return all_met ? 0 : 1;
	}

private:
	static std::string expect_text(const std::set<int> &e)
	{
		std::string s;
		for (int v : e)
			s += (s.empty() ? "" : "|") + result_name(v);
		return s;
	}

	static Status bad(const std::string &msg) { return Status::fail(EINVAL, msg); }

	static std::optional<uint32_t> ctrl_id(const std::string &s)
	{
		if (s == "keep_format")
			return V4L2LOOPBACK_CID_KEEP_FORMAT;
		if (s == "sustain_framerate")
			return V4L2LOOPBACK_CID_SUSTAIN_FRAMERATE;
		if (s == "timeout")
			return V4L2LOOPBACK_CID_TIMEOUT;
		if (s == "timeout_image_io")
			return V4L2LOOPBACK_CID_TIMEOUT_IMAGE_IO;
		if (s.starts_with("0x")) {
			uint32_t v = 0;
			const char *end = s.data() + s.size();
			auto [p, ec] = std::from_chars(s.data() + 2, end, v, 16);
			if (ec != std::errc() || p != end || s.size() == 2)
				throw UsageError("bad control id '" + s + "'");
			return v;
		}
		return parse_num<uint32_t>(s, "control id");
	}

	std::string fmt_line(const v4l2_format &f) const
	{
		std::string s = describe(f.fmt.pix);
		if (o_.verbose)
			s += " bytesperline=" + std::to_string(f.fmt.pix.bytesperline) +
			     " field=" + std::to_string(f.fmt.pix.field) +
			     " colorspace=" + std::to_string(f.fmt.pix.colorspace);
		return s;
	}

	uint32_t type_arg(const Cmd &c) const
	{
		const auto t = parse_buf_type(c.args.at(0));
		if (!t)
			throw UsageError(c.name + ": expected capture|output, got '" + c.args[0] +
					 "'");
		return *t;
	}

	// write N [ok|half|none]: from a mapping whose readable part is followed
	// by PROT_NONE pages, so that the kernel's copy faults where it ends
	Status write_bytes(const Cmd &c, std::string &out)
	{
		const auto bytes = parse_num<size_t>(c.args[0], c.name);
		const std::string how = c.args.size() > 1 ? c.args[1] : "ok";
		if (how != "ok" && how != "half" && how != "none")
			throw UsageError("write: expected ok|half|none, got '" + how + "'");
		const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
		const size_t good = how == "ok" ? bytes : how == "half" ? bytes / 2 : 0;
		const size_t good_len = (good + page - 1) / page * page;
		const size_t len = good_len + (bytes - good + page - 1) / page * page + page;
		void *map = mmap(nullptr, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (map == MAP_FAILED)
			return Status::fail(errno, "write: mmap: " + errno_text(errno));
		auto *base = static_cast<unsigned char *>(map);
		// the readable bytes end where the PROT_NONE pages begin
		unsigned char *p = base + good_len - good;
		if (good_len && mprotect(base, good_len, PROT_READ | PROT_WRITE)) {
			const int e = errno;
			munmap(map, len);
			return Status::fail(e, "write: mprotect: " + errno_text(e));
		}
		std::memset(p, 0x5a, good);
		const ssize_t r = ::write(dev_.fd(), p, bytes);
		const int e = errno;
		munmap(map, len);
		if (r < 0)
			return Status::fail(e, "write of " + std::to_string(bytes) +
						       " bytes: " + errno_text(e));
		out = "ok n=" + std::to_string(r);
		return Status::success();
	}

	// read N [MS]: poll() for input, then one read() of up to N bytes
	Status read_bytes(const Cmd &c, std::string &out)
	{
		const auto bytes = parse_num<size_t>(c.args[0], c.name);
		const int timeout = c.args.size() > 1 ? parse_num<int>(c.args[1], c.name) : 2000;
		short rev = 0;
		Status w8 = dev_.wait(POLLIN, timeout, rev, &stop_);
		if (w8.err == ETIMEDOUT)
			return Status::fail(EAGAIN, w8.msg);
		if (!w8)
			return w8;
		std::vector<unsigned char> buf(bytes);
		const ssize_t r = ::read(dev_.fd(), buf.data(), bytes);
		if (r < 0)
			return Status::fail(errno, "read of " + std::to_string(bytes) +
							   " bytes: " + errno_text(errno));
		out = "ok n=" + std::to_string(r);
		return Status::success();
	}

	// drain N [MS]: read N [MS] until it fails; that failure is the result
	Status drain(const Cmd &c, std::string &out)
	{
		unsigned frames = 0;
		for (;;) {
			std::string one;
			Status s = read_bytes(c, one);
			if (!s) {
				out = "frames=" + std::to_string(frames);
				std::printf("drain: frames=%u\n", frames);
				return s;
			}
			frames++;
		}
	}

	// mmap/check/scribble/munmap INDEX of a capture buffer; close
	Status mapping_cmd(const Cmd &c, std::string &out)
	{
		const std::string &n = c.name;
		if (n == "close") {
			dev_ = Device();
			return Status::success();
		}
		if (c.args[0] == "last" && !last_dq_)
			return bad(n + " last: no DQBUF yet");
		const uint32_t index = c.args[0] == "last"
					       ? *last_dq_
					       : parse_num<uint32_t>(c.args[0], "index");
		if (c.args.size() > 1 && c.args[1] != "output")
			return bad(n + ": the second argument can only be 'output'");
		const bool output = c.args.size() > 1;
		const uint32_t i = index | (output ? kOutputMap : 0);
		if (n == "mmap") {
			v4l2_buffer b;
			Status s = dev_.querybuf(output ? V4L2_BUF_TYPE_VIDEO_OUTPUT
							: V4L2_BUF_TYPE_VIDEO_CAPTURE,
						 V4L2_MEMORY_MMAP, index, b);
			if (!s)
				return s;
			return Mapping::map(dev_.fd(), b.length, PROT_READ | PROT_WRITE, b.m.offset,
					    maps_[i],
					    (output ? "output buffer " : "capture buffer ") +
						    std::to_string(index));
		}
		auto m = maps_.find(i);
		if (m == maps_.end() || !m->second)
			return bad(n + ": buffer " + std::to_string(index) + " is not mapped");
		if (n == "munmap") {
			maps_.erase(m);
			return Status::success();
		}
		if (n == "scribble") {
			std::memset(m->second.data(), 0xA5, m->second.size());
			return Status::success();
		}
		if (n == "touch") {
			const TouchResult t = touch_pages(m->second.data(), m->second.size(), 0xA5);
			if (t.sigbus) {
				out = "page=" + std::to_string(t.pages);
				return Status::fail(kSigbus, "touch " + std::to_string(index) +
								     ": SIGBUS writing page " +
								     std::to_string(t.pages));
			}
			out = "ok pages=" + std::to_string(t.pages);
			return Status::success();
		}
		const Check k = verify(m->second.data(), bytesused_[i], 0);
		if (!k.ok)
			return Status::fail(EBADMSG,
					    "check " + std::to_string(index) + ": " + k.why);
		out = "ok seq=" + std::to_string(k.seq);
		return Status::success();
	}

	Status exec(const Cmd &c, std::string &out)
	{
		const std::string &n = c.name;
		if (n == "mmap" || n == "check" || n == "scribble" || n == "touch" ||
		    n == "munmap" || n == "close")
			return mapping_cmd(c, out);
		if (n == "sleep-ms") {
			stop_.sleep_until(now_ns() +
					  parse_num<uint64_t>(c.args[0], n) * 1000000ULL);
			return Status::success();
		}
		if (n == "write")
			return write_bytes(c, out);
		if (n == "read")
			return read_bytes(c, out);
		if (n == "drain")
			return drain(c, out);
		if (n == "poll") {
			const std::string &w = c.args[0];
			const short ev = w == "in"    ? POLLIN
					 : w == "out" ? POLLOUT
					 : w == "pri" ? POLLPRI
						      : 0;
			if (!ev)
				throw UsageError("poll: expected in|out|pri, got '" + w + "'");
			const int timeout = c.args.size() > 1 ? parse_num<int>(c.args[1], n) : 2000;
			short rev = 0;
			Status w8 = dev_.wait(ev, timeout, rev, &stop_);
			if (w8.err == ETIMEDOUT)
				return Status::fail(EAGAIN, w8.msg);
			if (!w8)
				return w8;
			char line[48];
			std::snprintf(line, sizeof line, "ok revents=0x%x",
				      static_cast<unsigned>(rev));
			out = line;
			return w8;
		}
		if (n == "querycap") {
			v4l2_capability cap;
			Status s = dev_.querycap(cap);
			if (!s)
				return s;
			char line[512];
			std::snprintf(
				line, sizeof line,
				"driver=\"%.16s\" card=\"%.32s\" bus_info=\"%.32s\" version=0x%06x "
				"caps=0x%08x device_caps=0x%08x",
				reinterpret_cast<const char *>(cap.driver),
				reinterpret_cast<const char *>(cap.card),
				reinterpret_cast<const char *>(cap.bus_info), cap.version,
				cap.capabilities, cap.device_caps);
			out = line;
			if (o_.verbose)
				out += " device_caps_names=" + caps_names(cap.device_caps);
			return s;
		}
		if (n == "g_priority") {
			uint32_t v = 0;
			Status s = dev_.ioctl(VIDIOC_G_PRIORITY, &v);
			if (s)
				out = std::to_string(v);
			return s;
		}
		if (n == "s_priority") {
			uint32_t v = parse_num<uint32_t>(c.args[0], n);
			return dev_.ioctl(VIDIOC_S_PRIORITY, &v);
		}
		if (n == "g_input" || n == "g_output") {
			int v = 0;
			Status s = dev_.ioctl(n == "g_input" ? VIDIOC_G_INPUT : VIDIOC_G_OUTPUT,
					      &v);
			if (s)
				out = std::to_string(v);
			return s;
		}
		if (n == "s_input" || n == "s_output") {
			int v = parse_num<int>(c.args[0], n);
			return dev_.ioctl(n == "s_input" ? VIDIOC_S_INPUT : VIDIOC_S_OUTPUT, &v);
		}
		if (n == "enum_input" || n == "enum_output") {
			std::string names;
			for (uint32_t i = 0;; i++) {
				Status s;
				std::string name;
				if (n == "enum_input") {
					v4l2_input in{};
					in.index = i;
					s = dev_.ioctl(VIDIOC_ENUMINPUT, &in);
					name = reinterpret_cast<const char *>(in.name);
				} else {
					v4l2_output o{};
					o.index = i;
					s = dev_.ioctl(VIDIOC_ENUMOUTPUT, &o);
					name = reinterpret_cast<const char *>(o.name);
				}
				if (!s) {
					if (s.err == EINVAL && i > 0)
						break;
					return s;
				}
				names += (i ? "," : "") + name.substr(0, 32);
			}
			out = names;
			return Status::success();
		}
		if (n == "g_ctrl" || n == "s_ctrl") {
			const auto id = ctrl_id(c.args[0]);
			v4l2_control ctl{};
			ctl.id = *id;
			if (n == "s_ctrl")
				ctl.value = parse_num<int32_t>(c.args[1], "control value");
			Status s = dev_.ioctl(n == "g_ctrl" ? VIDIOC_G_CTRL : VIDIOC_S_CTRL, &ctl);
			if (s && n == "g_ctrl")
				out = std::to_string(ctl.value);
			return s;
		}
		if (n == "subscribe") {
			const std::string &e = c.args[0];
			const uint32_t type = e == "source_change" ? V4L2_EVENT_SOURCE_CHANGE
					      : e == "eos"         ? V4L2_EVENT_EOS
					      : e == "ctrl"        ? V4L2_EVENT_CTRL
					      : e == "client_usage"
						      ? V4L2_EVENT_PRI_CLIENT_USAGE
						      : parse_num<uint32_t>(e, "event");
			return dev_.subscribe_event(type,
						    c.args.size() > 1 ? *ctrl_id(c.args[1]) : 0);
		}
		if (n == "dqevent") {
			const int timeout = c.args.empty() ? 2000 : parse_num<int>(c.args[0], n);
			short rev = 0;
			Status w = dev_.wait(POLLPRI, timeout, rev, &stop_);
			if (w.err == ETIMEDOUT)
				return Status::fail(EAGAIN, w.msg);
			if (!w)
				return w;
			v4l2_event ev;
			Status s = dev_.dqevent(ev);
			if (s) {
				char line[128];
				std::snprintf(line, sizeof line, "ok type=0x%x id=%u data0=%u",
					      ev.type, ev.id,
					      ev.u.data[0] | ev.u.data[1] << 8 |
						      ev.u.data[2] << 16 |
						      static_cast<uint32_t>(ev.u.data[3]) << 24);
				out = line;
				if (ev.type == V4L2_EVENT_CTRL)
					out += " value=" + std::to_string(ev.u.ctrl.value);
			}
			return s;
		}

		const uint32_t type = type_arg(c);
		if (n == "g_fmt") {
			v4l2_format f;
			Status s = dev_.g_fmt(type, f);
			if (s)
				out = fmt_line(f);
			return s;
		}
		if (n == "s_fmt" || n == "try_fmt") {
			const auto fcc = parse_fourcc(c.args[1]);
			if (!fcc)
				throw UsageError(n + ": unknown format '" + c.args[1] + "'");
			const Size sz = parse_size(c.args[2]);
			v4l2_format f;
			Status s = dev_.s_fmt(type, *fcc, sz.width, sz.height, f, n == "try_fmt");
			if (s)
				out = fmt_line(f);
			return s;
		}
		if (n == "enum_fmt") {
			std::string list;
			for (uint32_t i = 0;; i++) {
				v4l2_fmtdesc d{};
				d.index = i;
				d.type = type;
				Status s = dev_.ioctl(VIDIOC_ENUM_FMT, &d);
				if (!s) {
					if (s.err == EINVAL && i > 0)
						break;
					return s;
				}
				list += (i ? "," : "") + fourcc_str(d.pixelformat);
			}
			out = list;
			return Status::success();
		}
		if (n == "reqbufs") {
			const auto mem = parse_memory(c.args[1]);
			if (!mem)
				throw UsageError("reqbufs: expected mmap|userptr|dmabuf, got '" +
						 c.args[1] + "'");
			uint32_t count = parse_num<uint32_t>(c.args[2], "count");
			Status s = dev_.reqbufs(type, *mem, count);
			if (s) {
				memory_[type == V4L2_BUF_TYPE_VIDEO_OUTPUT] = *mem;
				if (o_.verbose)
					out = "ok count=" + std::to_string(count);
			}
			return s;
		}
		if (n == "create_bufs") {
			const auto mem = parse_memory(c.args[1]);
			if (!mem)
				throw UsageError(
					"create_bufs: expected mmap|userptr|dmabuf, got '" +
					c.args[1] + "'");
			v4l2_create_buffers cb{};
			cb.count = parse_num<uint32_t>(c.args[2], "count");
			cb.memory = *mem;
			if (Status s = dev_.g_fmt(type, cb.format); !s)
				return s;
			if (const auto bytes = parse_num<uint32_t>(c.args[3], "bytes"))
				cb.format.fmt.pix.sizeimage = bytes;
			Status s = dev_.ioctl(VIDIOC_CREATE_BUFS, &cb);
			if (s) {
				memory_[type == V4L2_BUF_TYPE_VIDEO_OUTPUT] = *mem;
				out = "ok index=" + std::to_string(cb.index) +
				      " count=" + std::to_string(cb.count);
			}
			return s;
		}
		if (n == "expbuf") {
			Fd fd;
			Status s = dev_.expbuf(type, parse_num<uint32_t>(c.args[1], "index"), fd);
			if (s)
				exported_.push_back(std::move(fd));
			return s;
		}
		const uint32_t mem = memory_[type == V4L2_BUF_TYPE_VIDEO_OUTPUT];
		if (n == "querybuf" || n == "qbuf") {
			v4l2_buffer b;
			const uint32_t index = parse_num<uint32_t>(c.args[1], "index");
			Status s = dev_.querybuf(type, mem, index, b);
			if (!s)
				return s;
			if (n == "querybuf") {
				char line[128];
				std::snprintf(line, sizeof line,
					      "ok length=%u offset=%u flags=0x%08x", b.length,
					      b.m.offset, b.flags);
				out = line;
				return s;
			}
			if (mem != V4L2_MEMORY_MMAP)
				return bad("qbuf: only mmap buffers are supported");
			b.flags = 0;
			b.field = V4L2_FIELD_NONE;
			if (type == V4L2_BUF_TYPE_VIDEO_OUTPUT) {
				b.bytesused = b.length;
				const uint64_t ts = now_ns();
				b.timestamp.tv_sec = static_cast<time_t>(ts / 1000000000ULL);
				b.timestamp.tv_usec = static_cast<suseconds_t>(ts % 1000000000ULL /
									       1000);
			}
			return dev_.qbuf(b);
		}
		if (n == "dqbuf") {
			const int timeout = c.args.size() > 1 ? parse_num<int>(c.args[1], n) : 2000;
			v4l2_buffer b;
			Status s = dev_.dqbuf(type, mem, b);
			if (s.err == EAGAIN && timeout > 0) {
				short rev = 0;
				const short ev = type == V4L2_BUF_TYPE_VIDEO_OUTPUT ? POLLOUT
										    : POLLIN;
				Status w = dev_.wait(ev, timeout, rev, &stop_);
				if (w.err == ETIMEDOUT)
					return s; // still EAGAIN
				if (!w)
					return w;
				s = dev_.dqbuf(type, mem, b);
			}
			if (s) {
				bytesused_[b.index] = b.bytesused;
				last_dq_ = b.index;
				char line[160];
				std::snprintf(line, sizeof line,
					      "ok index=%u sequence=%u bytesused=%u flags=0x%08x",
					      b.index, b.sequence, b.bytesused, b.flags);
				out = line;
			}
			return s;
		}
		if (n == "streamon")
			return dev_.streamon(type);
		if (n == "streamoff")
			return dev_.streamoff(type);
		if (n == "g_parm" || n == "s_parm") {
			Status s = n == "g_parm" ? Status::success()
						 : dev_.s_parm(type, 1,
							       parse_num<uint32_t>(c.args[1], n));
			v4l2_streamparm p;
			if (s)
				s = dev_.g_parm(type, p);
			if (s) {
				const v4l2_fract &f = type == V4L2_BUF_TYPE_VIDEO_OUTPUT
							      ? p.parm.output.timeperframe
							      : p.parm.capture.timeperframe;
				out = std::to_string(f.numerator) + "/" +
				      std::to_string(f.denominator);
			}
			return s;
		}
		throw UsageError("unhandled command " + n);
	}

	const Options &o_;
	StopSignal &stop_;
	// mappings by buffer index, | kOutputMap for an OUTPUT buffer's
	static constexpr uint32_t kOutputMap = 1u << 31;
	std::map<uint32_t, Mapping> maps_; // before dev_: unmapped after it closes
	std::map<uint32_t, uint32_t> bytesused_;
	std::optional<uint32_t> last_dq_; // the index of the last DQBUF
	std::vector<Fd> exported_;        // EXPBUF's dma-bufs, open until the end
	Device dev_;
	uint32_t memory_[2] = {V4L2_MEMORY_MMAP, V4L2_MEMORY_MMAP}; // capture, output
};

} // namespace

int main(int argc, char **argv)
{
	return lb::run_main(argc, argv, "lb-ioctl", "lb-ioctl", kUsage, parse,
			    [](const Options &o) {
				    lb::StopSignal stop;
				    Runner r(o, stop);
				    return r.run();
			    });
}
