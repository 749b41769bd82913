// SPDX-License-Identifier: GPL-2.0
// v4l2loopback-ctl: every verb run end to end against FakeSys, a stand-in for
// the kernel that models the control device, loopback nodes and sysfs, and
// logs each system call. Checks ioctl sequences, arguments, output, error
// texts and exit codes; plus DEV resolution through real symlinks.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/log.h>
}

#include <linux/v4l2loopback.h>
#include <linux/videodev2.h>

#include "commands.h"
#include "device.h"
#include "errors.h"

using namespace v4l2lb;

namespace {

std::string ctrl_name(std::uint32_t id)
{
	switch (id) {
	case V4L2LOOPBACK_CID_KEEP_FORMAT:
		return "keep_format";
	case V4L2LOOPBACK_CID_SUSTAIN_FRAMERATE:
		return "sustain_framerate";
	case V4L2LOOPBACK_CID_TIMEOUT:
		return "timeout";
	case V4L2LOOPBACK_CID_TIMEOUT_IMAGE_IO:
		return "timeout_image_io";
	default:
		return "ctrl?";
	}
}

std::string request_name(unsigned long req)
{
	switch (req) {
	case V4L2LOOPBACK_CTL_VERSION:
		return "CTL_VERSION";
	case V4L2LOOPBACK_CTL_ADD:
		return "CTL_ADD";
	case V4L2LOOPBACK_CTL_REMOVE:
		return "CTL_REMOVE";
	case V4L2LOOPBACK_CTL_QUERY:
		return "CTL_QUERY";
	case V4L2LOOPBACK_CTL_ADD_LEGACY:
		return "CTL_ADD_LEGACY";
	case V4L2LOOPBACK_CTL_REMOVE_LEGACY:
		return "CTL_REMOVE_LEGACY";
	case V4L2LOOPBACK_CTL_QUERY_LEGACY:
		return "CTL_QUERY_LEGACY";
	case VIDIOC_QUERYCAP:
		return "QUERYCAP";
	case VIDIOC_G_FMT:
		return "G_FMT";
	case VIDIOC_S_FMT:
		return "S_FMT";
	case VIDIOC_TRY_FMT:
		return "TRY_FMT";
	case VIDIOC_G_PARM:
		return "G_PARM";
	case VIDIOC_S_PARM:
		return "S_PARM";
	case VIDIOC_G_CTRL:
		return "G_CTRL";
	case VIDIOC_S_CTRL:
		return "S_CTRL";
	default:
		return "ioctl?";
	}
}

std::string type_name(std::uint32_t type)
{
	return type == V4L2_BUF_TYPE_VIDEO_OUTPUT ? "OUTPUT" : "CAPTURE";
}

struct FakeNode {
	std::string name;
	v4l2_pix_format pix{};
	v4l2_fract tpf{1, 30};
	std::map<std::uint32_t, std::int32_t> ctrls;
	v4l2_loopback_config cfg{};
	std::string max_readers = "0";
};

// Computes what a driver reports for a format.
void fill_sizes(v4l2_pix_format &pix)
{
	std::uint32_t bpp2 = 4; // bytes per pixel * 2
	switch (pix.pixelformat) {
	case V4L2_PIX_FMT_NV12:
	case V4L2_PIX_FMT_YUV420:
	case V4L2_PIX_FMT_GREY:
		bpp2 = 2;
		break;
	case V4L2_PIX_FMT_RGB24:
	case V4L2_PIX_FMT_BGR24:
		bpp2 = 6;
		break;
	case V4L2_PIX_FMT_RGB32:
		bpp2 = 8;
		break;
	default:
		break;
	}
	pix.bytesperline = pix.pixelformat == V4L2_PIX_FMT_MJPEG ? 0 : pix.width * bpp2 / 2;
	pix.sizeimage = pix.width * pix.height * 2;
	if (pix.pixelformat == V4L2_PIX_FMT_NV12 || pix.pixelformat == V4L2_PIX_FMT_YUV420)
		pix.sizeimage = pix.width * pix.height * 3 / 2;
	else if (pix.pixelformat != V4L2_PIX_FMT_MJPEG)
		pix.sizeimage = pix.bytesperline * pix.height;
}

class FakeSys final : public Sys {
public:
	std::map<std::uint32_t, FakeNode> nodes;         // loopback devices
	std::map<std::uint32_t, std::string> foreign;    // other drivers' nodes
	std::map<std::string, std::string> links;        // symlink -> target
	std::map<std::string, int> open_errors;          // path -> errno
	std::map<std::string, int> ioctl_errors;         // request name -> errno
	std::map<std::string, int> write_file_errors;    // path -> errno
	std::map<std::string, std::string> sysfs_writes; // path -> last value
	bool legacy_only = false;                        // an old module: only the 0x4C8x numbers
	bool busy_when_kept = false;                     // S_FMT refused while keep_format is set
	bool output_only_unkept = false; // exclusive caps: no OUTPUT while keep_format is set
	bool no_try_fmt = false;         // a driver without VIDIOC_TRY_FMT
	bool no_ctl = false;             // module not loaded
	std::uint32_t version = (1u << 16) | (2u << 8) | 3u;
	std::vector<std::string> log;
	std::vector<std::vector<std::uint8_t>> frames;
	v4l2_loopback_config last_add{};

	FakeNode &make_node(std::uint32_t nr, const std::string &label = "")
	{
		FakeNode &n = nodes[nr];
		n.name = label.empty() ? "Dummy video device (0x000" + std::to_string(nr) + ")"
				       : label;
		n.pix.width = 640;
		n.pix.height = 480;
		n.pix.pixelformat = V4L2_PIX_FMT_YUYV;
		n.pix.field = V4L2_FIELD_NONE;
		fill_sizes(n.pix);
		n.ctrls = {{V4L2LOOPBACK_CID_KEEP_FORMAT, 0},
			   {V4L2LOOPBACK_CID_SUSTAIN_FRAMERATE, 0},
			   {V4L2LOOPBACK_CID_TIMEOUT, 0},
			   {V4L2LOOPBACK_CID_TIMEOUT_IMAGE_IO, 0}};
		n.cfg.output_nr = static_cast<__s32>(nr);
		n.cfg.unused = static_cast<__s32>(nr);
		std::strncpy(n.cfg.card_label, n.name.c_str(), sizeof(n.cfg.card_label) - 1);
		n.cfg.min_width = 2;
		n.cfg.max_width = 8192;
		n.cfg.min_height = 1;
		n.cfg.max_height = 8192;
		n.cfg.max_buffers = 8;
		n.cfg.max_openers = 128;
		n.cfg.debug = 0;
		n.cfg.announce_all_caps = 1;
		return n;
	}

	std::size_t open_fds() const { return fds_.size(); }

	int open(const std::string &path, int) override
	{
		log.push_back("open " + path);
		if (auto it = open_errors.find(path); it != open_errors.end())
			return -it->second;
		if (path == kControlDevice) {
			if (no_ctl)
				return -ENOENT;
		} else if (!node_of(path) && !foreign_of(path)) {
			return -ENOENT;
		}
		fds_[next_fd_] = path;
		return next_fd_++;
	}

	void close(int fd) override
	{
		log.push_back("close " + fds_.at(fd));
		fds_.erase(fd);
	}

	int ioctl(int fd, unsigned long req, void *arg) override
	{
		const std::string path = fds_.at(fd);
		std::string entry = request_name(req);
		if (req == VIDIOC_S_CTRL || req == VIDIOC_G_CTRL) {
			auto *c = static_cast<v4l2_control *>(arg);
			entry += " " + ctrl_name(c->id);
			if (req == VIDIOC_S_CTRL)
				entry += "=" + std::to_string(c->value);
		} else if (req == VIDIOC_S_FMT || req == VIDIOC_G_FMT || req == VIDIOC_TRY_FMT) {
			entry += " " + type_name(static_cast<v4l2_format *>(arg)->type);
		} else if (req == VIDIOC_S_PARM || req == VIDIOC_G_PARM) {
			entry += " " + type_name(static_cast<v4l2_streamparm *>(arg)->type);
		} else if (req == V4L2LOOPBACK_CTL_REMOVE ||
			   req == V4L2LOOPBACK_CTL_REMOVE_LEGACY) {
			entry += " " + std::to_string(reinterpret_cast<std::uintptr_t>(arg));
		}
		log.push_back(entry + " @" + path);
		if (auto it = ioctl_errors.find(request_name(req)); it != ioctl_errors.end())
			return -it->second;
		if (path == kControlDevice)
			return ctl_ioctl(req, arg);
		if (FakeNode *n = node_of(path))
			return node_ioctl(*n, path, req, arg);
		if (req == VIDIOC_QUERYCAP) {
			auto *cap = static_cast<v4l2_capability *>(arg);
			std::strcpy(reinterpret_cast<char *>(cap->driver), "uvcvideo");
			std::strcpy(reinterpret_cast<char *>(cap->card), "Real Camera");
			cap->capabilities = V4L2_CAP_VIDEO_CAPTURE;
			return 0;
		}
		return -ENOTTY;
	}

	long write(int fd, const void *data, std::size_t size) override
	{
		log.push_back("write " + std::to_string(size) + " @" + fds_.at(fd));
		const auto *p = static_cast<const std::uint8_t *>(data);
		frames.emplace_back(p, p + size);
		return static_cast<long>(size);
	}

	int read_file(const std::string &path, std::string &out) override
	{
		const auto [nr, attr] = split_sysfs(path);
		if (path == "/sys/module/v4l2loopback/version")
			return -ENOENT;
		if (auto it = foreign.find(nr); it != foreign.end() && attr == "name") {
			out = it->second + "\n";
			return 0;
		}
		auto it = nodes.find(nr);
		if (it == nodes.end())
			return -ENOENT;
		const FakeNode &n = it->second;
		if (attr == "name")
			out = n.name;
		else if (attr == "format")
			out = "YUYV:640x480@30";
		else if (attr == "max_openers")
			out = "128";
		else if (attr == "buffers")
			out = "8";
		else if (attr == "state")
			out = "capture";
		else if (attr == "max_readers")
			out = n.max_readers;
		else
			return -ENOENT;
		out += "\n";
		return 0;
	}

	int write_file(const std::string &path, std::string_view data) override
	{
		log.push_back("sysfs " + path + "=" + std::string(data));
		if (auto it = write_file_errors.find(path); it != write_file_errors.end())
			return -it->second;
		sysfs_writes[path] = std::string(data);
		return 0;
	}

	int list_dir(const std::string &path, std::vector<std::string> &names) override
	{
		if (path != "/sys/class/video4linux")
			return -ENOENT;
		names.clear();
		for (const auto &[nr, n] : nodes)
			names.push_back("video" + std::to_string(nr));
		for (const auto &[nr, name] : foreign)
			names.push_back("video" + std::to_string(nr));
		return 0;
	}

	int realpath(const std::string &path, std::string &out) override
	{
		if (auto it = links.find(path); it != links.end()) {
			out = it->second;
			return 0;
		}
		if (node_of(path) || foreign_of(path) || path == "/dev/null") {
			out = path;
			return 0;
		}
		return -ENOENT;
	}

	// Log entries other than open/close.
	std::vector<std::string> calls() const
	{
		std::vector<std::string> out;
		for (const auto &e : log)
			if (!e.starts_with("open ") && !e.starts_with("close "))
				out.push_back(e);
		return out;
	}

private:
	static std::pair<std::uint32_t, std::string> split_sysfs(const std::string &path)
	{
		const std::string prefix = "/sys/class/video4linux/video";
		if (!path.starts_with(prefix))
			return {~0u, ""};
		const std::size_t slash = path.find('/', prefix.size());
		if (slash == std::string::npos)
			return {~0u, ""};
		return {static_cast<std::uint32_t>(std::stoul(path.substr(prefix.size()))),
			path.substr(slash + 1)};
	}

	FakeNode *node_of(const std::string &path)
	{
		for (auto &[nr, n] : nodes)
			if (path == video_node_path(nr))
				return &n;
		return nullptr;
	}

	bool foreign_of(const std::string &path) const
	{
		for (const auto &[nr, n] : foreign)
			if (path == video_node_path(nr))
				return true;
		return false;
	}

	int ctl_ioctl(unsigned long req, void *arg)
	{
		const bool legacy = req == V4L2LOOPBACK_CTL_ADD_LEGACY ||
				    req == V4L2LOOPBACK_CTL_REMOVE_LEGACY ||
				    req == V4L2LOOPBACK_CTL_QUERY_LEGACY;
		if (legacy != legacy_only)
			return -ENOTTY;
		switch (req) {
		case V4L2LOOPBACK_CTL_VERSION:
			*static_cast<__u32 *>(arg) = version;
			return 0;
		case V4L2LOOPBACK_CTL_ADD:
		case V4L2LOOPBACK_CTL_ADD_LEGACY: {
			last_add = *static_cast<v4l2_loopback_config *>(arg);
			std::uint32_t nr = 0;
			if (last_add.output_nr >= 0) {
				nr = static_cast<std::uint32_t>(last_add.output_nr);
				if (nodes.count(nr) || foreign.count(nr))
					return -EEXIST;
			} else {
				while (nodes.count(nr) || foreign.count(nr))
					nr++;
			}
			make_node(nr, last_add.card_label);
			return static_cast<int>(nr);
		}
		case V4L2LOOPBACK_CTL_REMOVE:
		case V4L2LOOPBACK_CTL_REMOVE_LEGACY: {
			const auto nr = static_cast<std::uint32_t>(
				reinterpret_cast<std::uintptr_t>(arg));
			return nodes.erase(nr) ? 0 : -ENODEV;
		}
		case V4L2LOOPBACK_CTL_QUERY:
		case V4L2LOOPBACK_CTL_QUERY_LEGACY: {
			auto *cfg = static_cast<v4l2_loopback_config *>(arg);
			auto it = nodes.find(static_cast<std::uint32_t>(cfg->output_nr));
			if (it == nodes.end())
				return -ENODEV;
			*cfg = it->second.cfg;
			return 0;
		}
		default:
			return -ENOTTY;
		}
	}

	int node_ioctl(FakeNode &n, const std::string &path, unsigned long req, void *arg)
	{
		switch (req) {
		case VIDIOC_QUERYCAP: {
			auto *cap = static_cast<v4l2_capability *>(arg);
			std::strcpy(reinterpret_cast<char *>(cap->driver), "v4l2 loopback");
			std::strncpy(reinterpret_cast<char *>(cap->card), n.name.c_str(),
				     sizeof(cap->card) - 1);
			std::snprintf(reinterpret_cast<char *>(cap->bus_info),
				      sizeof(cap->bus_info), "platform:v4l2loopback-%03u",
				      n.cfg.output_nr);
			cap->device_caps = V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_VIDEO_OUTPUT |
					   V4L2_CAP_STREAMING | V4L2_CAP_READWRITE;
			cap->capabilities = cap->device_caps | V4L2_CAP_DEVICE_CAPS;
			(void)path;
			return 0;
		}
		case VIDIOC_G_FMT:
			static_cast<v4l2_format *>(arg)->fmt.pix = n.pix;
			return 0;
		case VIDIOC_TRY_FMT:
		case VIDIOC_S_FMT: {
			auto *f = static_cast<v4l2_format *>(arg);
			if (f->type != V4L2_BUF_TYPE_VIDEO_OUTPUT)
				return -EINVAL;
			if (no_try_fmt && req == VIDIOC_TRY_FMT)
				return -ENOTTY;
			if (output_only_unkept && n.ctrls[V4L2LOOPBACK_CID_KEEP_FORMAT])
				return -EINVAL;
			if (busy_when_kept && req == VIDIOC_S_FMT &&
			    n.ctrls[V4L2LOOPBACK_CID_KEEP_FORMAT])
				return -EBUSY;
			v4l2_pix_format pix = f->fmt.pix;
			const std::set<std::uint32_t> known{
				V4L2_PIX_FMT_YUYV,  V4L2_PIX_FMT_NV12,  V4L2_PIX_FMT_YUV420,
				V4L2_PIX_FMT_RGB24, V4L2_PIX_FMT_BGR24, V4L2_PIX_FMT_RGB32,
				V4L2_PIX_FMT_GREY,  V4L2_PIX_FMT_MJPEG};
			if (!known.count(pix.pixelformat))
				pix.pixelformat = V4L2_PIX_FMT_YUYV;
			pix.width = std::min<std::uint32_t>(pix.width, n.cfg.max_width);
			pix.height = std::min<std::uint32_t>(pix.height, n.cfg.max_height);
			pix.field = V4L2_FIELD_NONE;
			fill_sizes(pix);
			if (req == VIDIOC_S_FMT)
				n.pix = pix;
			f->fmt.pix = pix;
			return 0;
		}
		case VIDIOC_G_PARM: {
			auto *p = static_cast<v4l2_streamparm *>(arg);
			p->parm.capture.timeperframe = n.tpf;
			return 0;
		}
		case VIDIOC_S_PARM: {
			auto *p = static_cast<v4l2_streamparm *>(arg);
			if (p->type != V4L2_BUF_TYPE_VIDEO_OUTPUT)
				return -EINVAL;
			n.tpf = p->parm.output.timeperframe;
			return 0;
		}
		case VIDIOC_G_CTRL: {
			auto *c = static_cast<v4l2_control *>(arg);
			auto it = n.ctrls.find(c->id);
			if (it == n.ctrls.end())
				return -EINVAL;
			c->value = it->second;
			return 0;
		}
		case VIDIOC_S_CTRL: {
			auto *c = static_cast<v4l2_control *>(arg);
			auto it = n.ctrls.find(c->id);
			if (it == n.ctrls.end())
				return -EINVAL;
			if (c->id != V4L2LOOPBACK_CID_TIMEOUT_IMAGE_IO)
				it->second = c->value;
			return 0;
		}
		default:
			return -ENOTTY;
		}
	}

	std::map<int, std::string> fds_;
	int next_fd_ = 100;
};

struct Outcome {
	int rc;
	std::string out;
	std::string err;
};

class CtlCommands : public ::testing::Test {
protected:
	static void SetUpTestSuite() { av_log_set_level(AV_LOG_QUIET); }
	static void TearDownTestSuite() { av_log_set_level(AV_LOG_INFO); }

	Outcome run(std::vector<std::string> args)
	{
		std::ostringstream out, err;
		Context ctx{sys, out, err};
		const int rc = run_cli(ctx, args);
		// Every fd the command opened is closed again (RAII).
		EXPECT_EQ(sys.open_fds(), 0u) << "leaked file descriptors";
		return {rc, out.str(), err.str()};
	}

	FakeSys sys;
};

struct CodecCtxDeleter {
	void operator()(AVCodecContext *c) const { avcodec_free_context(&c); }
};
struct PacketDeleter {
	void operator()(AVPacket *p) const { av_packet_free(&p); }
};
struct FrameDeleter {
	void operator()(AVFrame *f) const { av_frame_free(&f); }
};

// A W x H PNG file of one colour, removed with the object.
class PngFile {
public:
	PngFile(int w, int h, std::uint8_t r, std::uint8_t g, std::uint8_t b)
	{
		path_ = std::filesystem::temp_directory_path() /
			("ctl-cmd-" + std::to_string(::getpid()) + "-" +
			 std::to_string(counter_++) + ".png");
		const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_PNG);
		std::unique_ptr<AVCodecContext, CodecCtxDeleter> ctx(avcodec_alloc_context3(codec));
		ctx->width = w;
		ctx->height = h;
		ctx->pix_fmt = AV_PIX_FMT_RGB24;
		ctx->time_base = AVRational{1, 25};
		std::unique_ptr<AVFrame, FrameDeleter> f(av_frame_alloc());
		f->format = AV_PIX_FMT_RGB24;
		f->width = w;
		f->height = h;
		std::unique_ptr<AVPacket, PacketDeleter> pkt(av_packet_alloc());
		if (avcodec_open2(ctx.get(), codec, nullptr) < 0 ||
		    av_frame_get_buffer(f.get(), 0) < 0)
			return;
		for (int y = 0; y < h; y++)
			for (int x = 0; x < w; x++) {
				std::uint8_t *p = f->data[0] + y * f->linesize[0] + x * 3;
				p[0] = r;
				p[1] = g;
				p[2] = b;
			}
		if (avcodec_send_frame(ctx.get(), f.get()) < 0 ||
		    avcodec_send_frame(ctx.get(), nullptr) < 0 ||
		    avcodec_receive_packet(ctx.get(), pkt.get()) < 0)
			return;
		std::ofstream(path_, std::ios::binary)
			.write(reinterpret_cast<const char *>(pkt->data), pkt->size);
	}
	~PngFile() { std::filesystem::remove(path_); }
	std::string path() const { return path_.string(); }

private:
	static inline int counter_ = 0;
	std::filesystem::path path_;
};

} // namespace

// ---- dispatcher, help, usage errors ---------------------------------------

TEST_F(CtlCommands, NoArgumentsIsAUsageError)
{
	const Outcome r = run({});
	EXPECT_EQ(r.rc, kExitUsage);
	EXPECT_EQ(r.out, "");
	EXPECT_TRUE(r.err.starts_with("Usage: v4l2loopback-ctl COMMAND")) << r.err;
}

TEST_F(CtlCommands, UnknownCommandAndOption)
{
	Outcome r = run({"frob"});
	EXPECT_EQ(r.rc, kExitUsage);
	EXPECT_EQ(r.err,
		  "v4l2loopback-ctl: unknown command 'frob'\nTry 'v4l2loopback-ctl help'.\n");
	r = run({"--frob"});
	EXPECT_EQ(r.rc, kExitUsage);
	EXPECT_EQ(r.err,
		  "v4l2loopback-ctl: unknown option '--frob'\nTry 'v4l2loopback-ctl help'.\n");
	r = run({"help", "frob"});
	EXPECT_EQ(r.rc, kExitUsage);
	EXPECT_EQ(r.err,
		  "v4l2loopback-ctl help: unknown command 'frob'\nTry 'v4l2loopback-ctl help'.\n");
}

TEST_F(CtlCommands, UsageErrorTouchesNothing)
{
	const Outcome r = run({"set-fps", "/dev/video0", "fast"});
	EXPECT_EQ(r.rc, kExitUsage);
	EXPECT_EQ(r.err, "v4l2loopback-ctl set-fps: invalid frame rate 'fast': expected N or N/M "
			 "with positive integers, e.g. 30 or 30000/1001\n"
			 "Try 'v4l2loopback-ctl help set-fps'.\n");
	EXPECT_TRUE(sys.log.empty());
}

TEST_F(CtlCommands, OverviewListsEveryCommand)
{
	const Outcome r = run({"--help"});
	EXPECT_EQ(r.rc, kExitOk);
	for (const Verb &cmd : verbs())
		EXPECT_NE(r.out.find("  " + std::string(cmd.name) + " "), std::string::npos)
			<< cmd.name;
	EXPECT_NE(r.out.find("Exit status: 0 success, 1 the operation failed, 2 usage error."),
		  std::string::npos);
	EXPECT_EQ(run({"-h"}).out, r.out);
	EXPECT_EQ(run({"help"}).out, r.out);
}

TEST_F(CtlCommands, EveryCommandHasHelp)
{
	for (const Verb &cmd : verbs()) {
		if (cmd.name == "help")
			continue;
		const std::string name(cmd.name);
		const Outcome a = run({"help", name});
		EXPECT_EQ(a.rc, kExitOk) << name;
		EXPECT_TRUE(a.out.starts_with("Usage: v4l2loopback-ctl " + name)) << a.out;
		// add's -h is --max-height, so only --help there.
		const Outcome b = run({name, "--help"});
		EXPECT_EQ(b.rc, kExitOk) << name;
		EXPECT_EQ(b.out, a.out) << name;
		if (name != "add") {
			const Outcome c = run({name, "-h"});
			EXPECT_EQ(c.out, a.out) << name;
		}
	}
	EXPECT_TRUE(sys.log.empty());
}

// ---- version --------------------------------------------------------------

TEST_F(CtlCommands, VersionWithModule)
{
	const Outcome r = run({"-V"});
	EXPECT_EQ(r.rc, kExitOk);
	EXPECT_EQ(r.out, "v4l2loopback-ctl " + tool_version() + "\nv4l2loopback module 1.2.3\n");
	EXPECT_EQ(run({"--version"}).out, r.out);
	EXPECT_EQ(run({"version"}).out, r.out);
	EXPECT_EQ(run({"version", "--json"}).out,
		  "{\n  \"tool\": \"" + tool_version() + "\",\n  \"module\": \"1.2.3\"\n}\n");
}

TEST_F(CtlCommands, VersionWithoutModule)
{
	sys.no_ctl = true;
	const Outcome r = run({"--version"});
	EXPECT_EQ(r.rc, kExitOk);
	EXPECT_EQ(r.out,
		  "v4l2loopback-ctl " + tool_version() +
			  "\nv4l2loopback module: unknown (/dev/v4l2loopback: open: no such file "
			  "or directory: module not loaded? try: sudo modprobe v4l2loopback)\n");
	EXPECT_NE(run({"version", "--json"}).out.find("\"module\": null"), std::string::npos);
}

// ---- add ------------------------------------------------------------------

TEST_F(CtlCommands, AddPrintsTheNewNode)
{
	const Outcome r = run({"add", "-n", "OBS Virtual Camera", "-x", "1", "-w", "1920", "-h",
			       "1080", "-b", "4", "-o", "20"});
	EXPECT_EQ(r.rc, kExitOk) << r.err;
	EXPECT_EQ(r.out, "/dev/video0\n");
	EXPECT_EQ(r.err, "");
	EXPECT_STREQ(sys.last_add.card_label, "OBS Virtual Camera");
	EXPECT_EQ(sys.last_add.output_nr, -1);
	EXPECT_EQ(sys.last_add.max_width, 1920u);
	EXPECT_EQ(sys.last_add.max_height, 1080u);
	EXPECT_EQ(sys.last_add.max_buffers, 4);
	EXPECT_EQ(sys.last_add.max_openers, 20);
	EXPECT_EQ(sys.last_add.announce_all_caps, 0);
	EXPECT_EQ(sys.calls(), (std::vector<std::string>{"CTL_ADD @/dev/v4l2loopback"}));
}

TEST_F(CtlCommands, AddWithNumberAndJson)
{
	const Outcome r = run({"add", "--json", "/dev/video7"});
	EXPECT_EQ(r.rc, kExitOk);
	EXPECT_EQ(r.out, "{\n  \"device\": \"/dev/video7\",\n  \"number\": 7\n}\n");
	EXPECT_EQ(sys.last_add.output_nr, 7);
	EXPECT_TRUE(sys.nodes.count(7));
}

TEST_F(CtlCommands, AddNumberInUse)
{
	sys.make_node(3);
	const Outcome r = run({"add", "3"});
	EXPECT_EQ(r.rc, kExitFailed);
	EXPECT_EQ(r.out, "");
	EXPECT_EQ(r.err, "v4l2loopback-ctl: /dev/v4l2loopback: V4L2LOOPBACK_CTL_ADD: file exists: "
			 "device number 3 is in use: pick another or omit it\n");
}

TEST_F(CtlCommands, AddWithoutModuleOrPermission)
{
	sys.no_ctl = true;
	Outcome r = run({"add"});
	EXPECT_EQ(r.rc, kExitFailed);
	EXPECT_EQ(r.err, "v4l2loopback-ctl: /dev/v4l2loopback: open: no such file or directory: "
			 "module not loaded? try: sudo modprobe v4l2loopback\n");
	sys.no_ctl = false;
	sys.open_errors["/dev/v4l2loopback"] = EACCES;
	r = run({"add"});
	EXPECT_EQ(r.rc, kExitFailed);
	EXPECT_EQ(r.err, "v4l2loopback-ctl: /dev/v4l2loopback: open: permission denied: run as "
			 "root or add yourself to group video\n");
}

TEST_F(CtlCommands, AddBadSizes)
{
	sys.ioctl_errors["CTL_ADD"] = EINVAL;
	const Outcome r = run({"add", "-w", "20000"});
	EXPECT_EQ(r.rc, kExitFailed);
	EXPECT_EQ(r.err, "v4l2loopback-ctl: /dev/v4l2loopback: V4L2LOOPBACK_CTL_ADD: invalid "
			 "argument: a size or count is out of range: check -w, -h, --min-width, "
			 "--min-height, -b and -o against the module's limits\n");
}

TEST_F(CtlCommands, AddSetsMaxReaders)
{
	const Outcome r = run({"add", "--max-readers", "1"});
	EXPECT_EQ(r.rc, kExitOk) << r.err;
	EXPECT_EQ(sys.sysfs_writes["/sys/class/video4linux/video0/max_readers"], "1");
	EXPECT_EQ(sys.calls(),
		  (std::vector<std::string>{"CTL_ADD @/dev/v4l2loopback",
					    "sysfs /sys/class/video4linux/video0/max_readers=1"}));
}

TEST_F(CtlCommands, AddRollsBackWhenMaxReadersFails)
{
	sys.write_file_errors["/sys/class/video4linux/video0/max_readers"] = EACCES;
	const Outcome r = run({"add", "--max-readers", "1"});
	EXPECT_EQ(r.rc, kExitFailed);
	EXPECT_EQ(r.out, "");
	EXPECT_EQ(r.err, "v4l2loopback-ctl: /sys/class/video4linux/video0/max_readers: sysfs "
			 "write: permission denied: run as root\n"
			 "v4l2loopback-ctl: /dev/video0 removed again\n");
	EXPECT_TRUE(sys.nodes.empty());
	EXPECT_EQ(sys.calls().back(), "CTL_REMOVE 0 @/dev/v4l2loopback");
}

TEST_F(CtlCommands, AddVerboseDescribesOnStderr)
{
	const Outcome r = run({"add", "-v", "-n", "cam"});
	EXPECT_EQ(r.rc, kExitOk);
	EXPECT_EQ(r.out, "/dev/video0\n");
	EXPECT_TRUE(r.err.starts_with("created /dev/video0:\n  name            cam\n")) << r.err;
	EXPECT_NE(r.err.find("  exclusive caps  no\n"), std::string::npos) << r.err;
}

TEST_F(CtlCommands, AddFallsBackToLegacyIoctl)
{
	sys.legacy_only = true;
	const Outcome r = run({"add", "2"});
	EXPECT_EQ(r.rc, kExitOk) << r.err;
	EXPECT_EQ(r.out, "/dev/video2\n");
	EXPECT_EQ(sys.calls(), (std::vector<std::string>{"CTL_ADD @/dev/v4l2loopback",
							 "CTL_ADD_LEGACY @/dev/v4l2loopback"}));
}

// ---- delete ---------------------------------------------------------------

TEST_F(CtlCommands, DeletePassesTheNumberByValue)
{
	sys.make_node(0);
	sys.make_node(12);
	sys.make_node(5);
	sys.links["/dev/v4l/by-id/cam"] = "/dev/video5";
	const Outcome r = run({"delete", "0", "/dev/video12", "/dev/v4l/by-id/cam"});
	EXPECT_EQ(r.rc, kExitOk) << r.err;
	EXPECT_EQ(r.out, "");
	EXPECT_TRUE(sys.nodes.empty());
	EXPECT_EQ(sys.calls(), (std::vector<std::string>{"CTL_REMOVE 0 @/dev/v4l2loopback",
							 "CTL_REMOVE 12 @/dev/v4l2loopback",
							 "CTL_REMOVE 5 @/dev/v4l2loopback"}));
}

TEST_F(CtlCommands, DeleteGoesOnAfterAFailure)
{
	sys.make_node(1);
	const Outcome r = run({"delete", "4", "1"});
	EXPECT_EQ(r.rc, kExitFailed);
	EXPECT_EQ(r.err, "v4l2loopback-ctl: /dev/video4: V4L2LOOPBACK_CTL_REMOVE: no such device: "
			 "not a v4l2loopback device: see v4l2loopback-ctl list\n");
	EXPECT_TRUE(sys.nodes.empty());
}

TEST_F(CtlCommands, DeleteBusy)
{
	sys.make_node(1);
	sys.ioctl_errors["CTL_REMOVE"] = EBUSY;
	const Outcome r = run({"delete", "1"});
	EXPECT_EQ(r.rc, kExitFailed);
	EXPECT_EQ(r.err, "v4l2loopback-ctl: /dev/video1: V4L2LOOPBACK_CTL_REMOVE: device or "
			 "resource busy: the device is in use: close the programs using it (see: "
			 "fuser -v /dev/video1)\n");
}

TEST_F(CtlCommands, DeleteBadSymlink)
{
	sys.links["/dev/cam"] = "/dev/null";
	Outcome r = run({"delete", "/dev/cam"});
	EXPECT_EQ(r.rc, kExitFailed);
	EXPECT_EQ(r.err, "v4l2loopback-ctl: /dev/cam: not a video device node (it is /dev/null): "
			 "give /dev/videoN, N or a symlink to a video node\n");
	r = run({"delete", "/dev/gone"});
	EXPECT_EQ(r.err, "v4l2loopback-ctl: /dev/gone: resolve: no such file or directory: no "
			 "such device: see v4l2loopback-ctl list\n");
}

// ---- list -----------------------------------------------------------------

TEST_F(CtlCommands, ListShowsOnlyLoopbackDevices)
{
	sys.foreign[0] = "Integrated Camera";
	sys.make_node(3, "OBS Virtual Camera");
	sys.make_node(10);
	const Outcome r = run({"list"});
	EXPECT_EQ(r.rc, kExitOk) << r.err;
	EXPECT_EQ(r.out, "DEVICE        NAME                          FORMAT\n"
			 "/dev/video3   OBS Virtual Camera            YUYV:640x480@30\n"
			 "/dev/video10  Dummy video device (0x00010)  YUYV:640x480@30\n");
}

TEST_F(CtlCommands, ListExtendedAndJson)
{
	sys.make_node(3, "cam \"one\"");
	Outcome r = run({"list", "-e"});
	EXPECT_EQ(r.rc, kExitOk);
	EXPECT_EQ(r.out, "DEVICE       NAME       FORMAT           STATE    CAPS            "
			 "MAX_READERS  MAX_OPENERS  BUFFERS\n"
			 "/dev/video3  cam \"one\"  YUYV:640x480@30  capture  capture,output  0"
			 "            128          8\n");
	r = run({"list", "--json"});
	EXPECT_EQ(r.out, "[\n"
			 "  {\n"
			 "    \"device\": \"/dev/video3\",\n"
			 "    \"number\": 3,\n"
			 "    \"name\": \"cam \\\"one\\\"\",\n"
			 "    \"format\": \"YUYV:640x480@30\",\n"
			 "    \"state\": \"capture\",\n"
			 "    \"caps\": \"capture,output\",\n"
			 "    \"bus_info\": \"platform:v4l2loopback-003\",\n"
			 "    \"max_readers\": 0,\n"
			 "    \"max_openers\": 128,\n"
			 "    \"buffers\": 8\n"
			 "  }\n"
			 "]\n");
}

TEST_F(CtlCommands, ListEmpty)
{
	sys.foreign[0] = "Integrated Camera";
	Outcome r = run({"list"});
	EXPECT_EQ(r.rc, kExitOk);
	EXPECT_EQ(r.out, "");
	EXPECT_EQ(r.err, "v4l2loopback-ctl: no v4l2loopback devices (create one with: "
			 "v4l2loopback-ctl add)\n");
	r = run({"list", "--json"});
	EXPECT_EQ(r.out, "[]\n");
}

TEST_F(CtlCommands, ListUsesSysfsWhenTheNodeCannotBeOpened)
{
	sys.make_node(4, "busy");
	sys.open_errors["/dev/video4"] = EBUSY;
	const Outcome r = run({"list"});
	EXPECT_EQ(r.rc, kExitOk);
	EXPECT_EQ(r.out, "DEVICE       NAME  FORMAT\n/dev/video4  busy  YUYV:640x480@30\n");
}

// ---- query ----------------------------------------------------------------

TEST_F(CtlCommands, Query)
{
	sys.make_node(2, "cam");
	const Outcome r = run({"query", "2"});
	EXPECT_EQ(r.rc, kExitOk) << r.err;
	EXPECT_EQ(r.out, "/dev/video2:\n"
			 "  name            cam\n"
			 "  width           2..8192\n"
			 "  height          1..8192\n"
			 "  buffers         8\n"
			 "  max openers     128\n"
			 "  exclusive caps  no\n"
			 "  debug           0\n");
}

TEST_F(CtlCommands, QueryExtendedJson)
{
	FakeNode &n = sys.make_node(2, "cam");
	n.ctrls[V4L2LOOPBACK_CID_KEEP_FORMAT] = 1;
	n.ctrls[V4L2LOOPBACK_CID_TIMEOUT] = 1500;
	n.tpf = {1001, 30000};
	const Outcome r = run({"query", "-e", "--json", "/dev/video2"});
	EXPECT_EQ(r.rc, kExitOk) << r.err;
	EXPECT_EQ(r.out, "[\n"
			 "  {\n"
			 "    \"device\": \"/dev/video2\",\n"
			 "    \"number\": 2,\n"
			 "    \"name\": \"cam\",\n"
			 "    \"min_width\": 2,\n"
			 "    \"max_width\": 8192,\n"
			 "    \"min_height\": 1,\n"
			 "    \"max_height\": 8192,\n"
			 "    \"buffers\": 8,\n"
			 "    \"max_openers\": 128,\n"
			 "    \"exclusive_caps\": false,\n"
			 "    \"debug\": 0,\n"
			 "    \"format\": \"YUYV:640x480@30000/1001\",\n"
			 "    \"state\": \"capture\",\n"
			 "    \"caps\": \"capture,output\",\n"
			 "    \"max_readers\": 0,\n"
			 "    \"keep_format\": true,\n"
			 "    \"sustain_framerate\": false,\n"
			 "    \"timeout_ms\": 1500\n"
			 "  }\n"
			 "]\n");
}

TEST_F(CtlCommands, QueryExtendedText)
{
	sys.make_node(2, "cam");
	const Outcome r = run({"query", "-e", "2"});
	EXPECT_EQ(r.rc, kExitOk);
	EXPECT_NE(r.out.find("  format             YUYV:640x480@30\n"), std::string::npos) << r.out;
	EXPECT_NE(r.out.find("  max readers        0 (no limit)\n"), std::string::npos) << r.out;
	EXPECT_NE(r.out.find("  timeout            0 ms (off)\n"), std::string::npos) << r.out;
}

TEST_F(CtlCommands, QueryUnknownDeviceFailsButGoesOn)
{
	sys.make_node(2);
	const Outcome r = run({"query", "9", "2"});
	EXPECT_EQ(r.rc, kExitFailed);
	EXPECT_EQ(r.err, "v4l2loopback-ctl: /dev/video9: V4L2LOOPBACK_CTL_QUERY: no such device: "
			 "not a v4l2loopback device: see v4l2loopback-ctl list\n");
	EXPECT_TRUE(r.out.starts_with("/dev/video2:\n"));
}

// ---- fps ------------------------------------------------------------------

TEST_F(CtlCommands, SetAndGetFps)
{
	sys.make_node(1);
	Outcome r = run({"set-fps", "/dev/video1", "30000/1001"});
	EXPECT_EQ(r.rc, kExitOk) << r.err;
	EXPECT_EQ(r.out, "");
	EXPECT_EQ(sys.nodes[1].tpf.numerator, 1001u);
	EXPECT_EQ(sys.nodes[1].tpf.denominator, 30000u);
	EXPECT_EQ(sys.calls(), (std::vector<std::string>{"S_PARM OUTPUT @/dev/video1"}));
	r = run({"get-fps", "1"});
	EXPECT_EQ(r.rc, kExitOk);
	EXPECT_EQ(r.out, "30000/1001\n");
	r = run({"get-fps", "--json", "1"});
	EXPECT_EQ(r.out, "{\n  \"device\": \"/dev/video1\",\n  \"fps\": \"30000/1001\",\n"
			 "  \"numerator\": 30000,\n  \"denominator\": 1001,\n"
			 "  \"value\": 29.97002997\n}\n");
}

TEST_F(CtlCommands, SetFpsFallsBackToSysfs)
{
	sys.make_node(1);
	sys.ioctl_errors["S_PARM"] = ENOTTY;
	const Outcome r = run({"set-fps", "1", "25"});
	EXPECT_EQ(r.rc, kExitOk) << r.err;
	EXPECT_EQ(sys.sysfs_writes["/sys/class/video4linux/video1/format"], "@25");
}

TEST_F(CtlCommands, SetFpsBusy)
{
	sys.make_node(1);
	sys.ioctl_errors["S_PARM"] = EBUSY;
	const Outcome r = run({"set-fps", "1", "25"});
	EXPECT_EQ(r.rc, kExitFailed);
	EXPECT_EQ(r.err, "v4l2loopback-ctl: /dev/video1: VIDIOC_S_PARM OUTPUT: device or resource "
			 "busy: a writer is active: stop it first\n");
	EXPECT_TRUE(sys.sysfs_writes.empty());
}

TEST_F(CtlCommands, GetFpsFromCaptureSide)
{
	sys.make_node(1).tpf = {1, 60};
	EXPECT_EQ(run({"get-fps", "1"}).out, "60\n");
	EXPECT_EQ(sys.calls().front(), "G_FMT CAPTURE @/dev/video1");
}

TEST_F(CtlCommands, MissingDevice)
{
	const Outcome r = run({"get-fps", "/dev/video9"});
	EXPECT_EQ(r.rc, kExitFailed);
	EXPECT_EQ(r.err, "v4l2loopback-ctl: /dev/video9: open: no such file or directory: no such "
			 "device: see v4l2loopback-ctl list\n");
}

// ---- caps -----------------------------------------------------------------

TEST_F(CtlCommands, SetCapsThenGetCaps)
{
	sys.make_node(0);
	Outcome r = run({"set-caps", "0", "NV12:320x240@15"});
	EXPECT_EQ(r.rc, kExitOk) << r.err;
	EXPECT_EQ(sys.calls(), (std::vector<std::string>{"TRY_FMT OUTPUT @/dev/video0",
							 "S_FMT OUTPUT @/dev/video0",
							 "S_PARM OUTPUT @/dev/video0",
							 "S_CTRL keep_format=1 @/dev/video0"}));
	EXPECT_EQ(sys.nodes[0].pix.pixelformat, V4L2_PIX_FMT_NV12);
	EXPECT_EQ(sys.nodes[0].ctrls[V4L2LOOPBACK_CID_KEEP_FORMAT], 1);
	r = run({"get-caps", "/dev/video0"});
	EXPECT_EQ(r.rc, kExitOk);
	EXPECT_EQ(r.out, "NV12:320x240@15\n");
	r = run({"get-caps", "--json", "0"});
	EXPECT_EQ(r.out, "{\n  \"device\": \"/dev/video0\",\n  \"caps\": \"NV12:320x240@15\",\n"
			 "  \"fourcc\": \"NV12\",\n  \"width\": 320,\n  \"height\": 240,\n"
			 "  \"fps\": \"15\"\n}\n");
}

TEST_F(CtlCommands, SetCapsWithoutFpsLeavesRate)
{
	sys.make_node(0);
	EXPECT_EQ(run({"set-caps", "0", "I420:1280x720"}).rc, kExitOk);
	EXPECT_EQ(sys.calls(), (std::vector<std::string>{"TRY_FMT OUTPUT @/dev/video0",
							 "S_FMT OUTPUT @/dev/video0",
							 "S_CTRL keep_format=1 @/dev/video0"}));
	EXPECT_EQ(run({"get-caps", "0"}).out, "YU12:1280x720@30\n");
}

TEST_F(CtlCommands, SetCapsAny)
{
	sys.make_node(0).ctrls[V4L2LOOPBACK_CID_KEEP_FORMAT] = 1;
	EXPECT_EQ(run({"set-caps", "0", "any"}).rc, kExitOk);
	EXPECT_EQ(sys.calls(), (std::vector<std::string>{"S_CTRL keep_format=0 @/dev/video0"}));
	EXPECT_EQ(sys.nodes[0].ctrls[V4L2LOOPBACK_CID_KEEP_FORMAT], 0);
}

TEST_F(CtlCommands, SetCapsRefusesAnAdjustedFormat)
{
	sys.make_node(0);
	const Outcome r = run({"set-caps", "0", "ABCD:320x240"});
	EXPECT_EQ(r.rc, kExitFailed);
	EXPECT_EQ(r.err,
		  "v4l2loopback-ctl: /dev/video0: VIDIOC_TRY_FMT OUTPUT: the device does not "
		  "take ABCD:320x240 (it offered YUYV:320x240): pick a format and size "
		  "within the device's limits (see v4l2loopback-ctl query /dev/video0)\n");
	EXPECT_EQ(sys.nodes[0].ctrls[V4L2LOOPBACK_CID_KEEP_FORMAT], 0);
	// Refused before anything changed: the device keeps its format.
	EXPECT_EQ(sys.calls(), (std::vector<std::string>{"TRY_FMT OUTPUT @/dev/video0"}));
	EXPECT_EQ(sys.nodes[0].pix.width, 640u);
}

TEST_F(CtlCommands, SetCapsOnADriverWithoutTryFmt)
{
	sys.no_try_fmt = true;
	sys.make_node(0);
	Outcome r = run({"set-caps", "0", "GREY:64x64"});
	EXPECT_EQ(r.rc, kExitOk) << r.err;
	EXPECT_EQ(sys.calls(), (std::vector<std::string>{"TRY_FMT OUTPUT @/dev/video0",
							 "S_FMT OUTPUT @/dev/video0",
							 "S_CTRL keep_format=1 @/dev/video0"}));
	r = run({"set-caps", "0", "ABCD:32x32"});
	EXPECT_EQ(r.rc, kExitFailed);
	EXPECT_TRUE(
		r.err.starts_with("v4l2loopback-ctl: /dev/video0: VIDIOC_S_FMT OUTPUT: the device "
				  "does not take ABCD:32x32 (it offered YUYV:32x32)"))
		<< r.err;
}

TEST_F(CtlCommands, SetCapsReleasesAKeptFormatOnAnExclusiveNode)
{
	// Exclusive caps: while keep_format holds the format the node announces
	// only capture, so the output side refuses (EINVAL) until it is released.
	sys.output_only_unkept = true;
	sys.make_node(0).ctrls[V4L2LOOPBACK_CID_KEEP_FORMAT] = 1;
	const Outcome r = run({"set-caps", "0", "NV12:320x240"});
	EXPECT_EQ(r.rc, kExitOk) << r.err;
	EXPECT_EQ(sys.calls(),
		  (std::vector<std::string>{
			  "TRY_FMT OUTPUT @/dev/video0", "G_CTRL keep_format @/dev/video0",
			  "S_CTRL keep_format=0 @/dev/video0", "TRY_FMT OUTPUT @/dev/video0",
			  "S_FMT OUTPUT @/dev/video0", "S_CTRL keep_format=1 @/dev/video0"}));
	EXPECT_EQ(sys.nodes[0].pix.pixelformat, V4L2_PIX_FMT_NV12);
}

TEST_F(CtlCommands, SetCapsPutsAKeptFormatBackWhenItFails)
{
	sys.busy_when_kept = true;
	sys.make_node(0).ctrls[V4L2LOOPBACK_CID_KEEP_FORMAT] = 1;
	sys.ioctl_errors["S_FMT"] = EBUSY; // a writer, too
	const Outcome r = run({"set-caps", "0", "GREY:64x64"});
	EXPECT_EQ(r.rc, kExitFailed);
	EXPECT_EQ(sys.nodes[0].ctrls[V4L2LOOPBACK_CID_KEEP_FORMAT], 1);
	EXPECT_EQ(sys.calls().back(), "S_CTRL keep_format=1 @/dev/video0");
	EXPECT_EQ(r.err, "v4l2loopback-ctl: /dev/video0: VIDIOC_S_FMT OUTPUT: device or resource "
			 "busy: a writer is active or keep_format holds the format: stop the "
			 "writer, or run: v4l2loopback-ctl set-caps /dev/video0 any\n");
}

TEST_F(CtlCommands, SetCapsReplacesAKeptFormat)
{
	sys.busy_when_kept = true;
	sys.make_node(0).ctrls[V4L2LOOPBACK_CID_KEEP_FORMAT] = 1;
	const Outcome r = run({"set-caps", "0", "GREY:64x64"});
	EXPECT_EQ(r.rc, kExitOk) << r.err;
	EXPECT_EQ(sys.calls(),
		  (std::vector<std::string>{
			  "TRY_FMT OUTPUT @/dev/video0", "S_FMT OUTPUT @/dev/video0",
			  "G_CTRL keep_format @/dev/video0", "S_CTRL keep_format=0 @/dev/video0",
			  "S_FMT OUTPUT @/dev/video0", "S_CTRL keep_format=1 @/dev/video0"}));
	EXPECT_EQ(sys.nodes[0].pix.pixelformat, V4L2_PIX_FMT_GREY);
}

TEST_F(CtlCommands, SetCapsBusyWriter)
{
	sys.make_node(0);
	sys.ioctl_errors["S_FMT"] = EBUSY;
	const Outcome r = run({"set-caps", "0", "YUYV:320x240"});
	EXPECT_EQ(r.rc, kExitFailed);
	EXPECT_EQ(r.err, "v4l2loopback-ctl: /dev/video0: VIDIOC_S_FMT OUTPUT: device or resource "
			 "busy: a writer is active or keep_format holds the format: stop the "
			 "writer, or run: v4l2loopback-ctl set-caps /dev/video0 any\n");
}

TEST_F(CtlCommands, GetCapsFallsBackToSysfs)
{
	sys.make_node(6);
	sys.open_errors["/dev/video6"] = EACCES;
	const Outcome r = run({"get-caps", "6"});
	EXPECT_EQ(r.rc, kExitOk) << r.err;
	EXPECT_EQ(r.out, "YUYV:640x480@30\n");
}

// ---- set-timeout-image ----------------------------------------------------

TEST_F(CtlCommands, TimeoutImageIsWrittenByTheNextOpener)
{
	sys.make_node(0).pix.width = 64; // 64x48 YUYV
	sys.nodes[0].pix.height = 48;
	fill_sizes(sys.nodes[0].pix);
	PngFile png(32, 24, 255, 255, 255);
	const Outcome r = run({"set-timeout-image", "-t", "2000", "/dev/video0", png.path()});
	EXPECT_EQ(r.rc, kExitOk) << r.err;
	EXPECT_EQ(r.out, "");
	EXPECT_EQ(sys.log, (std::vector<std::string>{
				   "open /dev/video0",
				   "G_FMT CAPTURE @/dev/video0",
				   "S_CTRL timeout_image_io=1 @/dev/video0",
				   "open /dev/video0",
				   "S_FMT OUTPUT @/dev/video0",
				   "write 6144 @/dev/video0",
				   "close /dev/video0",
				   "S_CTRL timeout=2000 @/dev/video0",
				   "close /dev/video0",
			   }));
	ASSERT_EQ(sys.frames.size(), 1u);
	ASSERT_EQ(sys.frames[0].size(), 64u * 48 * 2);
	// White in limited-range YUYV.
	for (std::size_t i = 0; i < sys.frames[0].size(); i += 2) {
		ASSERT_NEAR(sys.frames[0][i], 235, 2) << i;
		ASSERT_NEAR(sys.frames[0][i + 1], 128, 2) << i;
	}
	EXPECT_EQ(sys.nodes[0].ctrls[V4L2LOOPBACK_CID_TIMEOUT], 2000);
}

TEST_F(CtlCommands, TimeoutImageInRgb24WithoutTimeout)
{
	FakeNode &n = sys.make_node(0);
	n.pix.pixelformat = V4L2_PIX_FMT_RGB24;
	n.pix.width = 8;
	n.pix.height = 4;
	fill_sizes(n.pix);
	PngFile png(16, 8, 255, 0, 0);
	const Outcome r = run({"set-timeout-image", "0", png.path()});
	EXPECT_EQ(r.rc, kExitOk) << r.err;
	ASSERT_EQ(sys.frames.size(), 1u);
	ASSERT_EQ(sys.frames[0].size(), 8u * 4 * 3);
	EXPECT_NEAR(sys.frames[0][0], 255, 2);
	EXPECT_NEAR(sys.frames[0][1], 0, 2);
	EXPECT_NEAR(sys.frames[0][2], 0, 2);
	for (const auto &e : sys.log)
		EXPECT_EQ(e.find("timeout="), std::string::npos) << e;
}

TEST_F(CtlCommands, BadImageChangesNothing)
{
	sys.make_node(0);
	const std::string bad =
		(std::filesystem::temp_directory_path() / "ctl-cmd-bad.png").string();
	std::ofstream(bad) << "this is not a png";
	Outcome r = run({"set-timeout-image", "-t", "100", "0", bad});
	std::filesystem::remove(bad);
	EXPECT_EQ(r.rc, kExitFailed);
	EXPECT_TRUE(r.err.starts_with("v4l2loopback-ctl: " + bad + ": decode image: ")) << r.err;
	EXPECT_TRUE(sys.log.empty()) << sys.log.front();

	r = run({"set-timeout-image", "0", "/nonexistent/x.png"});
	EXPECT_EQ(r.rc, kExitFailed);
	EXPECT_EQ(r.err, "v4l2loopback-ctl: /nonexistent/x.png: decode image: no such file or "
			 "directory: check the file name\n");
	EXPECT_TRUE(sys.log.empty());
}

TEST_F(CtlCommands, TimeoutImageNeedsAConvertibleFormat)
{
	sys.make_node(0).pix.pixelformat = V4L2_PIX_FMT_MJPEG;
	PngFile png(8, 8, 0, 0, 255);
	const Outcome r = run({"set-timeout-image", "0", png.path()});
	EXPECT_EQ(r.rc, kExitFailed);
	EXPECT_TRUE(r.err.starts_with("v4l2loopback-ctl: /dev/video0: set-timeout-image: cannot "
				      "make a timeout image in the device's format MJPG: switch "
				      "the device to one of YUYV, UYVY"))
		<< r.err;
	for (const auto &e : sys.calls())
		EXPECT_TRUE(e.starts_with("G_")) << e; // only reads
}

TEST_F(CtlCommands, TimeoutImageOnOldModule)
{
	sys.make_node(0).ctrls.erase(V4L2LOOPBACK_CID_TIMEOUT_IMAGE_IO);
	PngFile png(8, 8, 0, 0, 255);
	const Outcome r = run({"set-timeout-image", "0", png.path()});
	EXPECT_EQ(r.rc, kExitFailed);
	EXPECT_EQ(r.err,
		  "v4l2loopback-ctl: /dev/video0: VIDIOC_S_CTRL timeout_image_io: invalid "
		  "argument: value out of range, or the module does not have this control\n");
	EXPECT_TRUE(sys.frames.empty());
}

// ---- devices and DEV resolution ------------------------------------------

TEST(CtlDevice, NodeNumberFromPath)
{
	EXPECT_EQ(node_number_from_path("/dev/video0"), 0u);
	EXPECT_EQ(node_number_from_path("/some/where/video42"), 42u);
	EXPECT_EQ(node_number_from_path("video7"), 7u);
	EXPECT_FALSE(node_number_from_path("/dev/null"));
	EXPECT_FALSE(node_number_from_path("/dev/video"));
	EXPECT_FALSE(node_number_from_path("/dev/video1a"));
	EXPECT_FALSE(node_number_from_path("/dev/vbi0"));
}

TEST(CtlDevice, KernelVersion)
{
	EXPECT_EQ(format_kernel_version((1u << 16) | (0u << 8) | 0u), "1.0.0");
	EXPECT_EQ(format_kernel_version((0u << 16) | (13u << 8) | 2u), "0.13.2");
}

TEST(CtlDevice, ResolveLiteralNodeWithoutLookingItUp)
{
	FakeSys sys;
	auto node = resolve_device(sys, {3u, "/dev/video3"});
	ASSERT_TRUE(node);
	EXPECT_EQ(*node, (VideoNode{3, "/dev/video3"}));
}

TEST(CtlDevice, ResolveRealSymlinks)
{
	namespace fs = std::filesystem;
	const fs::path dir = fs::temp_directory_path() /
			     ("ctl-resolve-" + std::to_string(::getpid()));
	fs::create_directories(dir / "by-id");
	std::ofstream(dir / "video5").put('x');
	fs::create_symlink(dir / "video5", dir / "by-id" / "usb-cam");
	fs::create_symlink("../by-id/usb-cam", dir / "by-id" / "relative");
	fs::create_symlink("/dev/null", dir / "not-video");

	RealSys sys;
	const std::string real = fs::canonical(dir / "video5").string();
	for (const char *link : {"by-id/usb-cam", "by-id/relative", "video5"}) {
		auto node = resolve_device(sys, {std::nullopt, (dir / link).string()});
		ASSERT_TRUE(node) << link << ": " << node.error().message();
		EXPECT_EQ(node->number, 5u);
		EXPECT_EQ(node->path, real);
	}
	const std::string bad = (dir / "not-video").string();
	auto no = resolve_device(sys, {std::nullopt, bad});
	ASSERT_FALSE(no);
	EXPECT_EQ(no.error().message(), bad + ": not a video device node (it is /dev/null): give "
					      "/dev/videoN, N or a symlink to a video node");
	const std::string gone = (dir / "gone").string();
	auto missing = resolve_device(sys, {std::nullopt, gone});
	ASSERT_FALSE(missing);
	EXPECT_EQ(missing.error().message(), gone + ": resolve: no such file or directory: no "
						    "such device: see v4l2loopback-ctl list");
	fs::remove_all(dir);
}

TEST(CtlDevice, FdClosesOnceAndMoves)
{
	FakeSys sys;
	sys.make_node(1);
	{
		auto fd = open_fd(sys, "/dev/video1", 0);
		ASSERT_TRUE(fd);
		EXPECT_EQ(sys.open_fds(), 1u);
		Fd moved = std::move(*fd);
		EXPECT_FALSE(fd->valid());
		EXPECT_TRUE(moved.valid());
		Fd other;
		other = std::move(moved);
		EXPECT_EQ(sys.open_fds(), 1u);
	}
	EXPECT_EQ(sys.open_fds(), 0u);
	EXPECT_EQ(sys.log, (std::vector<std::string>{"open /dev/video1", "close /dev/video1"}));
}

TEST(CtlDevice, IoctlErrorNamesIoctlAndDevice)
{
	FakeSys sys;
	sys.make_node(1);
	sys.ioctl_errors["G_FMT"] = EIO;
	auto dev = VideoDevice::open(sys, {1, "/dev/video1"});
	ASSERT_TRUE(dev);
	auto fmt = dev->g_fmt(V4L2_BUF_TYPE_VIDEO_CAPTURE);
	ASSERT_FALSE(fmt);
	EXPECT_EQ(fmt.error().message(), "/dev/video1: VIDIOC_G_FMT CAPTURE: input/output error");
	EXPECT_EQ(fmt.error().err, EIO);
}
