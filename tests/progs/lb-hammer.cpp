// SPDX-License-Identifier: GPL-2.0
// lb-hammer: issues configuration ioctls on one handle in a tight loop and
// counts the errnos, to show that a configuration change is never refused
// because others stream (or, with --prio-other, that it is refused while
// another handle holds V4L2_PRIORITY_RECORD).
//
//   lb-hammer -d /dev/videoN [--loops N] [--ops LIST] [--fps-list LIST]
//             [--timeouts LIST] [--pace-us U] [--expect ok|EBUSY]
//             [--prio-other background|interactive|record]
//             [--press-image-io] [--no-restore]
//
// One loop issues each op of LIST once (default: all of them):
//   keep_format        VIDIOC_S_CTRL keep_format = 1, 0, 1, ...
//   sustain_framerate  VIDIOC_S_CTRL sustain_framerate = 1, 0, ...
//   timeout            VIDIOC_S_CTRL timeout = the --timeouts values in turn
//                      (default 5000,0,100000,10000: none is reached by a
//                      writer that keeps writing)
//   s_parm_out         VIDIOC_S_PARM OUTPUT, the --fps-list rates in turn
//                      (default 30,25,15,10,30000/1001; N or N/M fps); the
//                      returned rate must be the one asked for
//   s_fmt_cap          VIDIOC_S_FMT CAPTURE asking for RGB24 1280x720; the
//                      result must be the device's format (G_FMT CAPTURE at
//                      the start)
//   s_parm_cap         VIDIOC_S_PARM CAPTURE asking for 1/1000; the result
//                      must be the nominal rate (the last s_parm_out, or the
//                      rate at the start)
// The timeout_image_io button is never pressed in the loop (it makes the
// NEXT open() a timeout-image writer). --press-image-io presses it once
// after the loop, then opens a second handle (which consumes it) and checks
// that handle's VIDIOC_S_FMT OUTPUT succeeds with the current format even
// though another handle is the writer; then closes it.
// --prio-other P: a second handle takes priority P (VIDIOC_S_PRIORITY)
// before the loop; the loop runs on the first handle. Afterwards the
// program checks that VIDIOC_G_PRIORITY on the first handle reports P, that
// the holder itself can issue every op, and (after the holder closed) that
// the first handle can again.
// Unless --no-restore, the controls and the output rate get their values
// from before the loop back at the end.
// Output: one line per op, then a summary:
//   hammer: op=keep_format calls=1000 ok=1000 EBUSY=0 other=0 wrong=0
//   hammer: loops=1000 calls=6000 ok=6000 ebusy=0 other=0 wrong=0
//           elapsed_ms=812 result=ok
// "wrong": the call had the expected outcome but returned wrong values.
// Exit: 0 every call had the --expect outcome (default ok) and no wrong
// values; 1 otherwise or on an error; 2 usage.
#include <cinttypes>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "cli.h"
#include "frame.h"
#include "v4l2util.h"

namespace {

using namespace lb;

constexpr uint32_t kCapture = V4L2_BUF_TYPE_VIDEO_CAPTURE;
constexpr uint32_t kOutput = V4L2_BUF_TYPE_VIDEO_OUTPUT;
constexpr int kMaxReports = 10;

const std::vector<std::string> kAllOps = {"keep_format", "sustain_framerate", "timeout",
					  "s_parm_out",  "s_fmt_cap",         "s_parm_cap"};

struct Fps {
	uint32_t num = 0, den = 1; // frames per second = num / den
};

struct Options {
	std::string device;
	uint64_t loops = 1000;
	std::vector<std::string> ops = kAllOps;
	std::vector<Fps> fps = {{30, 1}, {25, 1}, {15, 1}, {10, 1}, {30000, 1001}};
	std::vector<int32_t> timeouts = {5000, 0, 100000, 10000};
	uint32_t pace_us = 0;
	int expect = 0;
	std::optional<uint32_t> prio_other;
	bool press_image_io = false;
	bool restore = true;
};

constexpr const char *kUsage =
	"usage: lb-hammer -d /dev/videoN [--loops N] [--ops LIST] [--fps-list LIST]\n"
	"                 [--timeouts LIST] [--pace-us U] [--expect ok|EBUSY]\n"
	"                 [--prio-other background|interactive|record]\n"
	"                 [--press-image-io] [--no-restore]\n"
	"  ops: keep_format,sustain_framerate,timeout,s_parm_out,s_fmt_cap,s_parm_cap\n"
	"  exit: 0 every call as expected, 1 otherwise, 2 usage\n";

std::vector<std::string> split(std::string_view s)
{
	std::vector<std::string> r;
	size_t pos = 0;
	while (pos <= s.size()) {
		const size_t c = std::min(s.find(',', pos), s.size());
		if (c > pos)
			r.emplace_back(s.substr(pos, c - pos));
		pos = c + 1;
	}
	return r;
}

Fps parse_fps(std::string_view s)
{
	const auto slash = s.find('/');
	Fps f;
	f.num = parse_num<uint32_t>(s.substr(0, slash), "fps");
	if (slash != std::string_view::npos)
		f.den = parse_num<uint32_t>(s.substr(slash + 1), "fps");
	if (!f.num || !f.den)
		throw UsageError("fps: zero in '" + std::string(s) + "'");
	return f;
}

uint32_t parse_prio(std::string_view s)
{
	if (s == "background")
		return V4L2_PRIORITY_BACKGROUND;
	if (s == "interactive")
		return V4L2_PRIORITY_INTERACTIVE;
	if (s == "record")
		return V4L2_PRIORITY_RECORD;
	throw UsageError("--prio-other: expected background|interactive|record, got '" +
			 std::string(s) + "'");
}

Options parse(int argc, char **argv)
{
	Options o;
	Args a(argc, argv);
	while (!a.done()) {
		if (a.is("-d", "--device")) {
			o.device = a.value();
		} else if (a.is("--loops")) {
			o.loops = a.num<uint64_t>();
		} else if (a.is("--ops")) {
			o.ops = split(a.value());
			for (const auto &op : o.ops)
				if (std::find(kAllOps.begin(), kAllOps.end(), op) == kAllOps.end())
					throw UsageError("--ops: unknown op '" + op + "'");
		} else if (a.is("--fps-list")) {
			o.fps.clear();
			for (const auto &f : split(a.value()))
				o.fps.push_back(parse_fps(f));
		} else if (a.is("--timeouts")) {
			o.timeouts.clear();
			for (const auto &t : split(a.value()))
				o.timeouts.push_back(parse_num<int32_t>(t, "--timeouts"));
		} else if (a.is("--pace-us")) {
			o.pace_us = a.num<uint32_t>();
		} else if (a.is("--expect")) {
			const auto v = a.value();
			const auto e = errno_from_name(v);
			if (!e)
				throw UsageError("--expect: unknown errno name '" + std::string(v) +
						 "'");
			o.expect = *e;
		} else if (a.is("--prio-other")) {
			o.prio_other = parse_prio(a.value());
		} else if (a.flag("--press-image-io")) {
			o.press_image_io = true;
		} else if (a.flag("--no-restore")) {
			o.restore = false;
		} else if (a.flag("--help", "-h")) {
			throw UsageError("");
		} else {
			throw UsageError("unknown argument '" + std::string(a.peek()) + "'");
		}
	}
	if (o.device.empty())
		throw UsageError("-d DEVICE is required");
	if (o.ops.empty())
		throw UsageError("--ops: empty list");
	if (o.fps.empty() || o.timeouts.empty())
		throw UsageError("--fps-list and --timeouts need at least one value");
	return o;
}

struct Counts {
	uint64_t calls = 0, ok = 0, ebusy = 0, other = 0, wrong = 0, unexpected = 0;
};

std::string fract(const v4l2_fract &f)
{
	return std::to_string(f.numerator) + "/" + std::to_string(f.denominator);
}

// timeperframe a/b == c/d as rationals
bool same_rate(const v4l2_fract &a, const v4l2_fract &b)
{
	return uint64_t{a.numerator} * b.denominator == uint64_t{b.numerator} * a.denominator;
}

class Hammer {
public:
	explicit Hammer(const Options &o) : o_(o) {}

	int run()
	{
		must(dev_.open(o_.device));
		must(dev_.g_fmt(kCapture, cap_fmt_));
		v4l2_streamparm p;
		must(dev_.g_parm(kOutput, p));
		rate_ = p.parm.output.timeperframe;
		const v4l2_fract initial_rate = rate_;
		for (uint32_t id : {V4L2LOOPBACK_CID_KEEP_FORMAT,
				    V4L2LOOPBACK_CID_SUSTAIN_FRAMERATE, V4L2LOOPBACK_CID_TIMEOUT}) {
			v4l2_control c{};
			c.id = id;
			must(dev_.ioctl(VIDIOC_G_CTRL, &c));
			initial_ctrls_[id] = c.value;
		}

		Device holder;
		if (o_.prio_other) {
			must(holder.open(o_.device));
			uint32_t prio = *o_.prio_other;
			must(holder.ioctl(VIDIOC_S_PRIORITY, &prio));
		}

		const uint64_t start = now_ns();
		for (uint64_t i = 0; i < o_.loops; i++) {
			for (const auto &op : o_.ops)
				one(dev_, op, i, counts_[op], o_.expect);
			if (o_.pace_us)
				::usleep(o_.pace_us);
		}
		const uint64_t elapsed_ms = (now_ns() - start) / 1000000;

		bool extra_ok = true;
		if (o_.prio_other)
			extra_ok = check_priority(holder);
		if (o_.press_image_io)
			extra_ok = press_image_io() && extra_ok;
		if (o_.restore)
			extra_ok = restore(initial_rate) && extra_ok;
		return report(elapsed_ms, extra_ok);
	}

private:
	void problem(const std::string &msg)
	{
		if (reports_ < kMaxReports)
			std::fprintf(stderr, "hammer: %s\n", msg.c_str());
		else if (reports_ == kMaxReports)
			std::fprintf(stderr, "hammer: (further problems not shown)\n");
		reports_++;
	}

	// Issues op number i of kind `op` on `d`; true if it had outcome `expect`
	// with right values.
	bool one(const Device &d, const std::string &op, uint64_t i, Counts &c, int expect)
	{
		std::string wrong;
		Status s;
		if (op == "keep_format" || op == "sustain_framerate" || op == "timeout") {
			v4l2_control ctl{};
			ctl.id = op == "keep_format"         ? V4L2LOOPBACK_CID_KEEP_FORMAT
				 : op == "sustain_framerate" ? V4L2LOOPBACK_CID_SUSTAIN_FRAMERATE
							     : V4L2LOOPBACK_CID_TIMEOUT;
			ctl.value = op == "timeout" ? o_.timeouts[i % o_.timeouts.size()]
						    : static_cast<int32_t>((i + 1) % 2);
			s = d.ioctl(VIDIOC_S_CTRL, &ctl);
		} else if (op == "s_parm_out") {
			const Fps f = o_.fps[i % o_.fps.size()];
			v4l2_streamparm p{};
			p.type = kOutput;
			p.parm.output.timeperframe = {f.den, f.num};
			s = d.ioctl(VIDIOC_S_PARM, &p);
			if (s) {
				const v4l2_fract want{f.den, f.num};
				if (!same_rate(p.parm.output.timeperframe, want))
					wrong = "S_PARM OUTPUT " + fract(want) + " returned " +
						fract(p.parm.output.timeperframe);
				rate_ = p.parm.output.timeperframe;
			}
		} else if (op == "s_fmt_cap") {
			v4l2_format f;
			s = d.s_fmt(kCapture, V4L2_PIX_FMT_RGB24, 1280, 720, f);
			const v4l2_pix_format &a = f.fmt.pix, &b = cap_fmt_.fmt.pix;
			if (s && (a.pixelformat != b.pixelformat || a.width != b.width ||
				  a.height != b.height || a.sizeimage != b.sizeimage))
				wrong = "S_FMT CAPTURE returned " + describe(a) +
					", the device has " + describe(b);
		} else if (op == "s_parm_cap") {
			v4l2_streamparm p{};
			p.type = kCapture;
			p.parm.capture.timeperframe = {1, 1000};
			s = d.ioctl(VIDIOC_S_PARM, &p);
			if (s && !same_rate(p.parm.capture.timeperframe, rate_))
				wrong = "S_PARM CAPTURE returned " +
					fract(p.parm.capture.timeperframe) + ", nominal rate is " +
					fract(rate_);
		}
		c.calls++;
		if (s.ok())
			c.ok++;
		else if (s.err == EBUSY)
			c.ebusy++;
		else
			c.other++;
		if (s.err != expect) {
			c.unexpected++;
			problem(op + " #" + std::to_string(i) + ": expected " + errno_name(expect) +
				", got " + (s ? std::string("ok") : s.msg));
			return false;
		}
		if (!wrong.empty()) {
			c.wrong++;
			problem(op + " #" + std::to_string(i) + ": " + wrong);
			return false;
		}
		return true;
	}

	bool check_priority(Device &holder)
	{
		bool ok = true;
		uint32_t prio = 0;
		if (Status s = dev_.ioctl(VIDIOC_G_PRIORITY, &prio); !s) {
			problem(s.msg);
			ok = false;
		} else if (prio != *o_.prio_other) {
			problem("VIDIOC_G_PRIORITY: expected " + std::to_string(*o_.prio_other) +
				", got " + std::to_string(prio));
			ok = false;
		}
		Counts h;
		for (const auto &op : o_.ops)
			ok = one(holder, op, 0, h, 0) && ok;
		std::printf("hammer: holder: calls=%" PRIu64 " ok=%" PRIu64 " EBUSY=%" PRIu64
			    " other=%" PRIu64 " wrong=%" PRIu64 "\n",
			    h.calls, h.ok, h.ebusy, h.other, h.wrong);
		holder.close();
		Counts after;
		for (const auto &op : o_.ops)
			ok = one(dev_, op, 0, after, 0) && ok;
		std::printf("hammer: after-release: calls=%" PRIu64 " ok=%" PRIu64 " EBUSY=%" PRIu64
			    " other=%" PRIu64 " wrong=%" PRIu64 "\n",
			    after.calls, after.ok, after.ebusy, after.other, after.wrong);
		return ok;
	}

	bool press_image_io()
	{
		v4l2_control ctl{};
		ctl.id = V4L2LOOPBACK_CID_TIMEOUT_IMAGE_IO;
		ctl.value = 1;
		if (Status s = dev_.ioctl(VIDIOC_S_CTRL, &ctl); !s) {
			problem("pressing timeout_image_io: " + s.msg);
			std::printf("hammer: image-io: %s\n", errno_name(s.err).c_str());
			return false;
		}
		Device img;
		if (Status s = img.open(o_.device); !s) {
			problem(s.msg);
			return false;
		}
		v4l2_format f;
		Status s = img.s_fmt(kOutput, V4L2_PIX_FMT_RGB24, 1280, 720, f);
		const v4l2_pix_format &a = f.fmt.pix, &b = cap_fmt_.fmt.pix;
		const bool same = a.pixelformat == b.pixelformat && a.width == b.width &&
				  a.height == b.height && a.sizeimage == b.sizeimage;
		std::printf("hammer: image-io: S_FMT OUTPUT by the next opener: %s%s\n",
			    s ? "ok " : errno_name(s.err).c_str(), s ? describe(a).c_str() : "");
		if (!s) {
			problem("S_FMT OUTPUT by the handle opened after timeout_image_io: " +
				s.msg);
			return false;
		}
		if (!same) {
			problem("S_FMT OUTPUT by the handle opened after timeout_image_io returned " +
				describe(a) + ", the device has " + describe(b));
			return false;
		}
		return true;
	}

	bool restore(const v4l2_fract &rate)
	{
		bool ok = true;
		for (const auto &[id, value] : initial_ctrls_) {
			v4l2_control c{};
			c.id = id;
			c.value = value;
			if (Status s = dev_.ioctl(VIDIOC_S_CTRL, &c); !s) {
				problem("restoring control: " + s.msg);
				ok = false;
			}
		}
		v4l2_streamparm p{};
		p.type = kOutput;
		p.parm.output.timeperframe = rate;
		if (Status s = dev_.ioctl(VIDIOC_S_PARM, &p); !s) {
			problem("restoring the rate: " + s.msg);
			ok = false;
		}
		return ok;
	}

	int report(uint64_t elapsed_ms, bool extra_ok)
	{
		Counts t;
		for (const auto &op : o_.ops) {
			const Counts &c = counts_[op];
			std::printf("hammer: op=%s calls=%" PRIu64 " ok=%" PRIu64 " EBUSY=%" PRIu64
				    " other=%" PRIu64 " wrong=%" PRIu64 "\n",
				    op.c_str(), c.calls, c.ok, c.ebusy, c.other, c.wrong);
			t.calls += c.calls;
			t.ok += c.ok;
			t.ebusy += c.ebusy;
			t.other += c.other;
			t.wrong += c.wrong;
			t.unexpected += c.unexpected;
		}
		const bool ok = t.unexpected == 0 && t.wrong == 0 && extra_ok;
		std::printf("hammer: loops=%" PRIu64 " calls=%" PRIu64 " ok=%" PRIu64
			    " ebusy=%" PRIu64 " other=%" PRIu64 " wrong=%" PRIu64
			    " elapsed_ms=%" PRIu64 " result=%s\n",
			    o_.loops, t.calls, t.ok, t.ebusy, t.other, t.wrong, elapsed_ms,
			    ok ? "ok" : "fail");
		std::fflush(stdout);
		return ok ? 0 : 1;
	}

	const Options &o_;
	Device dev_;
	v4l2_format cap_fmt_{};
	v4l2_fract rate_{};
	std::map<uint32_t, int32_t> initial_ctrls_;
	std::map<std::string, Counts> counts_;
	int reports_ = 0;
};

} // namespace

int main(int argc, char **argv)
{
	return lb::run_main(argc, argv, "lb-hammer", "hammer", kUsage, parse, [](const Options &o) {
		Hammer h(o);
		return h.run();
	});
}
