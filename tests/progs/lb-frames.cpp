// SPDX-License-Identifier: GPL-2.0
// lb-frames: classifies the frames of a raw capture dump (frames of --size
// bytes back to back, as `v4l2-ctl --stream-mmap --stream-to FILE` writes
// them), for tests where readers receive frames that are not lb-writer's:
// the timeout image, repeated frames, ...
//
//   lb-frames --size S [--image FILE] [--fourcc F] DUMP
//
// Each frame is one of:
//   stamped  an lb-writer frame that passes every check of frame.h verify()
//   bad      carries lb-writer's header but fails verify() (torn, corrupt)
//   fill     every byte has the same value (the default timeout image is
//            0x80 everywhere)
//   image    byte for byte the contents of --image FILE
//   other    anything else
// Output, two lines:
//   frames: total=N stamped=A bad=B fill=C image=D other=E
//   runs: S0-29 F80*45 S30-89 I*3
// Runs: "Sa-b" stamped frames with consecutive seqs a..b (a break in the
// sequence starts a new run, so a gap or a repeat is visible), "Fhh*n" n
// frames filled with byte 0xhh, "I*n" image frames, "X*n" bad frames, "?*n"
// other frames.
// Exit: 0 the dump was read (whatever it holds), 1 error (unreadable, not a
// whole number of frames), 2 usage.
#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "cli.h"
#include "frame.h"

namespace {

using namespace lb;

struct Options {
	size_t size = 0;
	std::string image;
	uint32_t fourcc = 0;
	std::string dump;
};

constexpr const char *kUsage =
	"usage: lb-frames --size SIZEIMAGE [--image FILE] [--fourcc F] DUMP\n"
	"  prints 'frames: total=..' and 'runs: S0-29 F80*45 I*3 X*1 ?*2 ...'\n";

Options parse(int argc, char **argv)
{
	Options o;
	Args a(argc, argv);
	while (!a.done()) {
		if (a.is("--size")) {
			o.size = a.num<size_t>();
		} else if (a.is("--image")) {
			o.image = a.value();
		} else if (a.is("--fourcc")) {
			const auto v = a.value();
			const auto f = parse_fourcc(v);
			if (!f)
				throw UsageError("--fourcc: unknown format '" + std::string(v) +
						 "'");
			o.fourcc = *f;
		} else if (a.flag("--help", "-h")) {
			throw UsageError("");
		} else if (a.peek().starts_with("-") && a.peek() != "-") {
			throw UsageError("unknown option '" + std::string(a.peek()) + "'");
		} else if (o.dump.empty()) {
			o.dump = a.next();
		} else {
			throw UsageError("more than one dump file");
		}
	}
	if (o.size == 0)
		throw UsageError("--size SIZEIMAGE is required");
	if (o.dump.empty())
		throw UsageError("DUMP file is required");
	return o;
}

std::vector<uint8_t> slurp(const std::string &path)
{
	std::ifstream f(path, std::ios::binary);
	if (!f)
		throw std::runtime_error("cannot open " + path);
	return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

struct Run {
	char kind = 0;                // 'S', 'F', 'I', 'X', '?'
	uint64_t first = 0, last = 0; // S: seqs
	uint8_t fill = 0;             // F: the byte
	uint64_t n = 0;
};

std::string run_text(const Run &r)
{
	char b[64];
	switch (r.kind) {
	case 'S':
		std::snprintf(b, sizeof b, "S%" PRIu64 "-%" PRIu64, r.first, r.last);
		break;
	case 'F':
		std::snprintf(b, sizeof b, "F%02x*%" PRIu64, r.fill, r.n);
		break;
	default:
		std::snprintf(b, sizeof b, "%c*%" PRIu64, r.kind, r.n);
		break;
	}
	return b;
}

int run(const Options &o)
{
	const std::vector<uint8_t> dump = slurp(o.dump);
	std::vector<uint8_t> image;
	if (!o.image.empty()) {
		image = slurp(o.image);
		if (image.size() != o.size)
			std::fprintf(stderr, "lb-frames: note: --image is %zu bytes, frames %zu\n",
				     image.size(), o.size);
	}
	if (dump.size() % o.size) {
		std::fprintf(stderr,
			     "lb-frames: %s: %zu bytes is not a whole number of %zu-byte frames\n",
			     o.dump.c_str(), dump.size(), o.size);
		return 1;
	}
	uint64_t stamped = 0, bad = 0, fill = 0, img = 0, other = 0;
	std::vector<Run> runs;
	for (size_t off = 0; off < dump.size(); off += o.size) {
		const uint8_t *f = dump.data() + off;
		Run r;
		r.n = 1;
		const Check c = verify(f, o.size, o.fourcc);
		if (c.ok) {
			r.kind = 'S';
			r.first = r.last = c.seq;
			stamped++;
		} else if (c.fault != Fault::TooShort && c.fault != Fault::Magic) {
			r.kind = 'X';
			bad++;
			std::fprintf(stderr, "lb-frames: frame %zu: %s\n", off / o.size,
				     c.why.c_str());
		} else if (!image.empty() && image.size() == o.size &&
			   std::equal(f, f + o.size, image.begin())) {
			r.kind = 'I';
			img++;
		} else if (std::all_of(f, f + o.size, [&](uint8_t v) { return v == f[0]; })) {
			r.kind = 'F';
			r.fill = f[0];
			fill++;
		} else {
			r.kind = '?';
			other++;
		}
		if (!runs.empty()) {
			Run &p = runs.back();
			if (p.kind == r.kind && r.kind == 'S' && r.first == p.last + 1) {
				p.last = r.last;
				p.n++;
				continue;
			}
			if (p.kind == r.kind && r.kind != 'S' &&
			    (r.kind != 'F' || r.fill == p.fill)) {
				p.n++;
				continue;
			}
		}
		runs.push_back(r);
	}
	std::printf("frames: total=%zu stamped=%" PRIu64 " bad=%" PRIu64 " fill=%" PRIu64
		    " image=%" PRIu64 " other=%" PRIu64 "\n",
		    dump.size() / o.size, stamped, bad, fill, img, other);
	std::string line = "runs:";
	for (const Run &r : runs)
		line += " " + run_text(r);
	std::printf("%s\n", line.c_str());
	return 0;
}

} // namespace

int main(int argc, char **argv)
{
	return lb::run_main(argc, argv, "lb-frames", "lb-frames", kUsage, parse,
			    [](const Options &o) { return run(o); });
}
