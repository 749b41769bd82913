// SPDX-License-Identifier: GPL-2.0
// v4l2loopback-ctl: the option scanner, DEV parsing and every verb's parser.
#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "args.h"
#include "verbs.h"

using namespace v4l2lb;

namespace {

using Argv = std::vector<std::string>;

template <typename T>
std::string error_of(const Parsed<T> &p)
{
	return p ? std::string("<no error>") : p.error().message;
}

enum { kA, kB, kLong, kVal };
constexpr std::array<OptSpec, 4> kSpecs{{
	{'a', "alpha", false, kA},
	{'b', "", false, kB},
	{0, "long-only", false, kLong},
	{'v', "value", true, kVal},
}};

} // namespace

TEST(CtlArgsScan, MixesOptionsAndPositionals)
{
	const Argv argv{"one", "-a", "two", "--value", "x", "three"};
	auto s = scan_options(argv, kSpecs);
	ASSERT_TRUE(s);
	EXPECT_EQ(s->positionals, (Argv{"one", "two", "three"}));
	ASSERT_EQ(s->opts.size(), 2u);
	EXPECT_EQ(s->opts[0].id, kA);
	EXPECT_EQ(s->opts[0].spelled, "-a");
	EXPECT_EQ(s->opts[1].id, kVal);
	EXPECT_EQ(s->opts[1].spelled, "--value");
	EXPECT_EQ(s->opts[1].value, "x");
}

TEST(CtlArgsScan, ValueForms)
{
	for (const Argv &argv : {Argv{"-v", "7"}, Argv{"-v7"}, Argv{"--value=7"},
				 Argv{"--value", "7"}, Argv{"-abv7"}}) {
		auto s = scan_options(argv, kSpecs);
		ASSERT_TRUE(s) << argv[0];
		ASSERT_FALSE(s->opts.empty());
		EXPECT_EQ(s->opts.back().id, kVal);
		EXPECT_EQ(s->opts.back().value, "7") << argv[0];
	}
}

TEST(CtlArgsScan, ValueMayLookLikeAnOption)
{
	auto s = scan_options(Argv{"-v", "-5"}, kSpecs);
	ASSERT_TRUE(s);
	EXPECT_EQ(s->opts[0].value, "-5");
	auto e = scan_options(Argv{"--value="}, kSpecs);
	ASSERT_TRUE(e);
	EXPECT_EQ(e->opts[0].value, "");
}

TEST(CtlArgsScan, ClusteredFlags)
{
	auto s = scan_options(Argv{"-ab"}, kSpecs);
	ASSERT_TRUE(s);
	ASSERT_EQ(s->opts.size(), 2u);
	EXPECT_EQ(s->opts[0].id, kA);
	EXPECT_EQ(s->opts[1].id, kB);
}

TEST(CtlArgsScan, DoubleDashEndsOptions)
{
	auto s = scan_options(Argv{"--", "-a", "--value"}, kSpecs);
	ASSERT_TRUE(s);
	EXPECT_TRUE(s->opts.empty());
	EXPECT_EQ(s->positionals, (Argv{"-a", "--value"}));
}

TEST(CtlArgsScan, LoneDashIsPositional)
{
	auto s = scan_options(Argv{"-"}, kSpecs);
	ASSERT_TRUE(s);
	EXPECT_EQ(s->positionals, (Argv{"-"}));
}

TEST(CtlArgsScan, NegativeNumbersArePositionals)
{
	auto s = scan_options(Argv{"-5", "-1/2"}, kSpecs);
	ASSERT_TRUE(s);
	EXPECT_TRUE(s->opts.empty());
	EXPECT_EQ(s->positionals, (Argv{"-5", "-1/2"}));
}

TEST(CtlArgsScan, Errors)
{
	EXPECT_EQ(error_of(scan_options(Argv{"-z"}, kSpecs)), "unknown option '-z'");
	EXPECT_EQ(error_of(scan_options(Argv{"-az"}, kSpecs)), "unknown option '-z'");
	EXPECT_EQ(error_of(scan_options(Argv{"--zeta"}, kSpecs)), "unknown option '--zeta'");
	EXPECT_EQ(error_of(scan_options(Argv{"--zeta=1"}, kSpecs)), "unknown option '--zeta'");
	EXPECT_EQ(error_of(scan_options(Argv{"-v"}, kSpecs)), "option '-v' needs a value");
	EXPECT_EQ(error_of(scan_options(Argv{"--value"}, kSpecs)),
		  "option '--value' needs a value");
	EXPECT_EQ(error_of(scan_options(Argv{"--alpha=1"}, kSpecs)),
		  "option '--alpha' does not take a value");
}

TEST(CtlArgsNumber, Ranges)
{
	const ScannedOpt opt{0, "-b", "12"};
	auto ok = parse_option_number(opt, 1, 100);
	ASSERT_TRUE(ok);
	EXPECT_EQ(*ok, 12u);
	EXPECT_EQ(error_of(parse_option_number({0, "-b", "0"}, 1, 100)),
		  "invalid value '0' for -b: expected an integer from 1 to 100");
	EXPECT_EQ(error_of(parse_option_number({0, "--buffers", "101"}, 1, 100)),
		  "invalid value '101' for --buffers: expected an integer from 1 to 100");
	for (const char *bad :
	     {"", "-1", "+1", "1.5", "abc", " 1", "1 ", "0x10", "99999999999999999999999"})
		EXPECT_FALSE(parse_option_number({0, "-b", bad}, 0, 100)) << bad;
}

TEST(CtlArgsDevice, Forms)
{
	EXPECT_EQ(*parse_device_arg("/dev/video3"), (DeviceArg{3u, "/dev/video3"}));
	EXPECT_EQ(*parse_device_arg("3"), (DeviceArg{3u, "/dev/video3"}));
	EXPECT_EQ(*parse_device_arg("0"), (DeviceArg{0u, "/dev/video0"}));
	EXPECT_EQ(*parse_device_arg("video12"), (DeviceArg{12u, "/dev/video12"}));
	EXPECT_EQ(*parse_device_arg("/dev/v4l/by-id/usb-cam"),
		  (DeviceArg{std::nullopt, "/dev/v4l/by-id/usb-cam"}));
	EXPECT_EQ(*parse_device_arg("./cam"), (DeviceArg{std::nullopt, "./cam"}));
	EXPECT_EQ(*parse_device_arg("/dev/videoX"), (DeviceArg{std::nullopt, "/dev/videoX"}));
}

TEST(CtlArgsDevice, Errors)
{
	EXPECT_EQ(error_of(parse_device_arg("")),
		  "invalid device '': expected /dev/videoN, N or a path to a video node");
	EXPECT_EQ(error_of(parse_device_arg("cam")),
		  "invalid device 'cam': expected /dev/videoN, N or a path to a video node");
	EXPECT_EQ(error_of(parse_device_arg("-1")),
		  "invalid device '-1': expected /dev/videoN, N or a path to a video node");
	EXPECT_EQ(error_of(parse_device_arg("99999999999")),
		  "invalid device '99999999999': device number too large");
	EXPECT_EQ(error_of(parse_device_arg("/dev/video99999999999")),
		  "invalid device '/dev/video99999999999': device number too large");
}

TEST(CtlArgsAdd, Defaults)
{
	auto o = parse_args("add", Argv{});
	ASSERT_TRUE(o);
	EXPECT_FALSE(o->help);
	EXPECT_FALSE(o->device_number);
	const auto cfg = make_add_config(*o);
	EXPECT_EQ(cfg.output_nr, -1);
	EXPECT_EQ(cfg.unused, -1);
	EXPECT_EQ(cfg.card_label[0], '\0');
	EXPECT_EQ(cfg.min_width, 0u);
	EXPECT_EQ(cfg.max_width, 0u);
	EXPECT_EQ(cfg.min_height, 0u);
	EXPECT_EQ(cfg.max_height, 0u);
	EXPECT_EQ(cfg.max_buffers, -1);
	EXPECT_EQ(cfg.max_openers, -1);
	EXPECT_EQ(cfg.debug, -1);
	EXPECT_EQ(cfg.announce_all_caps, -1);
}

TEST(CtlArgsAdd, AllOptions)
{
	auto o = parse_args("add", Argv{"-n",
					"OBS Virtual Camera",
					"-w",
					"1920",
					"-h",
					"1080",
					"--min-width",
					"320",
					"--min-height=240",
					"-x",
					"1",
					"-b",
					"4",
					"-o",
					"100",
					"--max-readers",
					"1",
					"-v",
					"--json",
					"/dev/video7"});
	ASSERT_TRUE(o) << error_of(o);
	EXPECT_EQ(o->name, "OBS Virtual Camera");
	EXPECT_TRUE(o->verbose);
	EXPECT_TRUE(o->json);
	EXPECT_EQ(o->max_readers, 1u);
	const auto cfg = make_add_config(*o);
	EXPECT_EQ(cfg.output_nr, 7);
	EXPECT_EQ(cfg.unused, 7);
	EXPECT_STREQ(cfg.card_label, "OBS Virtual Camera");
	EXPECT_EQ(cfg.max_width, 1920u);
	EXPECT_EQ(cfg.max_height, 1080u);
	EXPECT_EQ(cfg.min_width, 320u);
	EXPECT_EQ(cfg.min_height, 240u);
	EXPECT_EQ(cfg.announce_all_caps, 0); // exclusive caps
	EXPECT_EQ(cfg.max_buffers, 4);
	EXPECT_EQ(cfg.max_openers, 100);
}

TEST(CtlArgsAdd, ExclusiveCapsZeroAnnouncesAll)
{
	auto o = parse_args("add", Argv{"-x0", "5"});
	ASSERT_TRUE(o);
	EXPECT_EQ(make_add_config(*o).announce_all_caps, 1);
	EXPECT_EQ(make_add_config(*o).output_nr, 5);
}

TEST(CtlArgsAdd, LongNames)
{
	auto o = parse_args("add", Argv{"--name=cam", "--max-width", "640", "--max-height", "480",
					"--exclusive-caps", "0", "--buffers", "2", "--max-openers",
					"3", "--verbose"});
	ASSERT_TRUE(o) << error_of(o);
	EXPECT_EQ(o->name, "cam");
	EXPECT_EQ(o->max_width, 640u);
	EXPECT_EQ(o->max_height, 480u);
	EXPECT_EQ(o->exclusive_caps, false);
	EXPECT_EQ(o->buffers, 2u);
	EXPECT_EQ(o->max_openers, 3u);
}

TEST(CtlArgsAdd, LabelOf31BytesFits)
{
	const std::string name(31, 'x');
	auto o = parse_args("add", Argv{"-n", name});
	ASSERT_TRUE(o);
	const auto cfg = make_add_config(*o);
	EXPECT_EQ(std::string(cfg.card_label), name);
	EXPECT_EQ(cfg.card_label[31], '\0');
}

TEST(CtlArgsAdd, HelpIsLongOnlyBecauseHIsHeight)
{
	auto help = parse_args("add", Argv{"--help"});
	ASSERT_TRUE(help);
	EXPECT_TRUE(help->help);
	EXPECT_EQ(error_of(parse_args("add", Argv{"-h"})), "option '-h' needs a value");
	// --help wins over otherwise bad arguments after it is scanned.
	auto help2 = parse_args("add", Argv{"--help", "-x", "7"});
	ASSERT_TRUE(help2);
	EXPECT_TRUE(help2->help);
}

TEST(CtlArgsAdd, Errors)
{
	EXPECT_EQ(error_of(parse_args("add", Argv{"-n", std::string(32, 'x')})),
		  "name '" + std::string(32, 'x') + "' is too long: at most 31 bytes");
	EXPECT_EQ(error_of(parse_args("add", Argv{"-x", "2"})),
		  "invalid value '2' for -x: expected 0 or 1");
	EXPECT_EQ(error_of(parse_args("add", Argv{"--exclusive-caps=yes"})),
		  "invalid value 'yes' for --exclusive-caps: expected 0 or 1");
	EXPECT_EQ(error_of(parse_args("add", Argv{"-w", "0"})),
		  "invalid value '0' for -w: expected an integer from 1 to 65535");
	EXPECT_EQ(error_of(parse_args("add", Argv{"-h", "abc"})),
		  "invalid value 'abc' for -h: expected an integer from 1 to 65535");
	EXPECT_EQ(error_of(parse_args("add", Argv{"--min-width", "-5"})),
		  "invalid value '-5' for --min-width: expected an integer from 1 to 65535");
	EXPECT_EQ(error_of(parse_args("add", Argv{"-b", "0"})),
		  "invalid value '0' for -b: expected an integer from 1 to 2147483647");
	EXPECT_EQ(error_of(parse_args("add", Argv{"-o", "many"})),
		  "invalid value 'many' for -o: expected an integer from 1 to 2147483647");
	EXPECT_EQ(error_of(parse_args("add", Argv{"--max-readers", "-1"})),
		  "invalid value '-1' for --max-readers: expected an integer from 0 to 2147483647");
	EXPECT_EQ(error_of(parse_args("add", Argv{"--min-width", "800", "-w", "640"})),
		  "--min-width (800) must not be larger than --max-width (640)");
	EXPECT_EQ(error_of(parse_args("add", Argv{"--min-height", "600", "-h", "480"})),
		  "--min-height (600) must not be larger than --max-height (480)");
	EXPECT_EQ(error_of(parse_args("add", Argv{"3", "4"})), "unexpected argument '4'");
	EXPECT_EQ(
		error_of(parse_args("add", Argv{"/dev/v4l/by-id/x"})),
		"invalid device '/dev/v4l/by-id/x': expected /dev/videoN or N for the new device");
	EXPECT_EQ(error_of(parse_args("add", Argv{"cam"})),
		  "invalid device 'cam': expected /dev/videoN, N or a path to a video node");
	EXPECT_EQ(error_of(parse_args("add", Argv{"--frobnicate"})),
		  "unknown option '--frobnicate'");
	EXPECT_EQ(error_of(parse_args("add", Argv{"-n"})), "option '-n' needs a value");
}

TEST(CtlArgsDelete, Devices)
{
	auto o = parse_args("delete", Argv{"3", "/dev/video4", "/dev/v4l/by-id/cam"});
	ASSERT_TRUE(o);
	ASSERT_EQ(o->devices.size(), 3u);
	EXPECT_EQ(o->devices[0].number, 3u);
	EXPECT_EQ(o->devices[1].number, 4u);
	EXPECT_EQ(o->devices[2].path, "/dev/v4l/by-id/cam");
	EXPECT_TRUE(parse_args("delete", Argv{"-h"})->help);
	EXPECT_EQ(error_of(parse_args("delete", Argv{})),
		  "missing DEV argument: give at least one device");
	EXPECT_EQ(error_of(parse_args("delete", Argv{"3", "x"})),
		  "invalid device 'x': expected /dev/videoN, N or a path to a video node");
	EXPECT_EQ(error_of(parse_args("delete", Argv{"-e", "3"})), "unknown option '-e'");
}

TEST(CtlArgsList, Options)
{
	auto plain = parse_args("list", Argv{});
	ASSERT_TRUE(plain);
	EXPECT_FALSE(plain->extended);
	EXPECT_FALSE(plain->json);
	auto all = parse_args("list", Argv{"-e", "--json"});
	ASSERT_TRUE(all);
	EXPECT_TRUE(all->extended);
	EXPECT_TRUE(all->json);
	EXPECT_TRUE(parse_args("list", Argv{"--extended"})->extended);
	EXPECT_TRUE(parse_args("list", Argv{"--help"})->help);
	EXPECT_EQ(error_of(parse_args("list", Argv{"3"})), "unexpected argument '3'");
	EXPECT_EQ(error_of(parse_args("list", Argv{"--json=1"})),
		  "option '--json' does not take a value");
	EXPECT_EQ(error_of(parse_args("list", Argv{"-j"})), "unknown option '-j'");
}

TEST(CtlArgsQuery, Options)
{
	auto o = parse_args("query", Argv{"-e", "1", "--json", "/dev/video2"});
	ASSERT_TRUE(o);
	EXPECT_TRUE(o->extended);
	EXPECT_TRUE(o->json);
	ASSERT_EQ(o->devices.size(), 2u);
	EXPECT_EQ(o->devices[1].number, 2u);
	EXPECT_TRUE(parse_args("query", Argv{"-h"})->help);
	EXPECT_EQ(error_of(parse_args("query", Argv{"-e"})),
		  "missing DEV argument: give at least one device");
	EXPECT_EQ(error_of(parse_args("query", Argv{"foo"})),
		  "invalid device 'foo': expected /dev/videoN, N or a path to a video node");
}

TEST(CtlArgsSetFps, Good)
{
	auto o = parse_args("set-fps", Argv{"/dev/video1", "30000/1001"});
	ASSERT_TRUE(o);
	EXPECT_EQ(o->device.number, 1u);
	EXPECT_EQ(o->fps, (Fps{30000, 1001}));
	auto n = parse_args("set-fps", Argv{"2", "25"});
	ASSERT_TRUE(n);
	EXPECT_EQ(n->fps, (Fps{25, 1}));
}

TEST(CtlArgsSetFps, Errors)
{
	EXPECT_EQ(error_of(parse_args("set-fps", Argv{})), "missing DEV argument");
	EXPECT_EQ(error_of(parse_args("set-fps", Argv{"1"})), "missing FPS argument");
	EXPECT_EQ(error_of(parse_args("set-fps", Argv{"1", "30", "x"})), "unexpected argument 'x'");
	EXPECT_EQ(error_of(parse_args("set-fps", Argv{"1", "0"})),
		  "invalid frame rate '0': must be greater than 0");
	EXPECT_EQ(error_of(parse_args("set-fps", Argv{"1", "-5"})),
		  "invalid frame rate '-5': must be greater than 0");
	EXPECT_EQ(error_of(parse_args("set-fps", Argv{"1", "--", "-5"})),
		  "invalid frame rate '-5': must be greater than 0");
	EXPECT_EQ(error_of(parse_args("set-fps", Argv{"1", "fast"})),
		  "invalid frame rate 'fast': expected N or N/M with positive integers, e.g. 30 "
		  "or 30000/1001");
	EXPECT_EQ(error_of(parse_args("set-fps", Argv{"x", "30"})),
		  "invalid device 'x': expected /dev/videoN, N or a path to a video node");
	EXPECT_TRUE(parse_args("set-fps", Argv{"--help"})->help);
}

TEST(CtlArgsGetFps, Options)
{
	auto o = parse_args("get-fps", Argv{"--json", "4"});
	ASSERT_TRUE(o);
	EXPECT_TRUE(o->json);
	EXPECT_EQ(o->device.number, 4u);
	EXPECT_EQ(error_of(parse_args("get-fps", Argv{})), "missing DEV argument");
	EXPECT_EQ(error_of(parse_args("get-fps", Argv{"4", "5"})), "unexpected argument '5'");
	EXPECT_TRUE(parse_args("get-fps", Argv{"-h"})->help);
}

TEST(CtlArgsSetCaps, Good)
{
	auto o = parse_args("set-caps", Argv{"/dev/video0", "YUYV:640x480@30"});
	ASSERT_TRUE(o);
	ASSERT_TRUE(o->caps);
	EXPECT_EQ(o->caps->fourcc, V4L2_PIX_FMT_YUYV);
	EXPECT_EQ(o->caps->width, 640u);
	EXPECT_EQ(o->caps->height, 480u);
	EXPECT_EQ(o->caps->fps, (Fps{30, 1}));
	auto any = parse_args("set-caps", Argv{"0", "any"});
	ASSERT_TRUE(any);
	EXPECT_FALSE(any->caps);
}

TEST(CtlArgsSetCaps, Errors)
{
	EXPECT_EQ(error_of(parse_args("set-caps", Argv{"0"})), "missing CAPS argument");
	EXPECT_EQ(error_of(parse_args("set-caps", Argv{"0", "YUYV"})),
		  "invalid caps 'YUYV': expected FOURCC:WIDTHxHEIGHT[@FPS], e.g. YUYV:640x480@30");
	EXPECT_EQ(error_of(parse_args("set-caps", Argv{"0", "YUYV:640x480@0"})),
		  "invalid caps 'YUYV:640x480@0': invalid frame rate '0': must be greater than 0");
	EXPECT_EQ(error_of(parse_args("set-caps", Argv{"0", "ANY"})),
		  "invalid caps 'ANY': expected FOURCC:WIDTHxHEIGHT[@FPS], e.g. YUYV:640x480@30");
}

TEST(CtlArgsGetCaps, Options)
{
	auto o = parse_args("get-caps", Argv{"/dev/video9", "--json"});
	ASSERT_TRUE(o);
	EXPECT_TRUE(o->json);
	EXPECT_EQ(o->device.number, 9u);
	EXPECT_EQ(error_of(parse_args("get-caps", Argv{})), "missing DEV argument");
	EXPECT_EQ(error_of(parse_args("get-caps", Argv{"--pretty", "1"})),
		  "unknown option '--pretty'");
}

TEST(CtlArgsTimeoutImage, Good)
{
	auto o = parse_args("set-timeout-image", Argv{"-t", "2000", "/dev/video0", "pic.png"});
	ASSERT_TRUE(o);
	EXPECT_EQ(o->timeout_ms, 2000u);
	EXPECT_EQ(o->device.number, 0u);
	EXPECT_EQ(o->image, "pic.png");
	auto after = parse_args("set-timeout-image", Argv{"0", "a b.jpg", "--timeout=0"});
	ASSERT_TRUE(after);
	EXPECT_EQ(after->timeout_ms, 0u);
	EXPECT_EQ(after->image, "a b.jpg");
	auto none = parse_args("set-timeout-image", Argv{"0", "x.png"});
	ASSERT_TRUE(none);
	EXPECT_FALSE(none->timeout_ms);
	auto dash = parse_args("set-timeout-image", Argv{"0", "--", "-odd.png"});
	ASSERT_TRUE(dash);
	EXPECT_EQ(dash->image, "-odd.png");
}

TEST(CtlArgsTimeoutImage, Errors)
{
	EXPECT_EQ(error_of(parse_args("set-timeout-image", Argv{"0"})), "missing IMAGE argument");
	EXPECT_EQ(error_of(parse_args("set-timeout-image", Argv{})), "missing DEV argument");
	EXPECT_EQ(error_of(parse_args("set-timeout-image", Argv{"-t", "100001", "0", "x.png"})),
		  "invalid value '100001' for -t: expected an integer from 0 to 100000");
	EXPECT_EQ(error_of(parse_args("set-timeout-image", Argv{"-t", "-1", "0", "x.png"})),
		  "invalid value '-1' for -t: expected an integer from 0 to 100000");
	EXPECT_EQ(error_of(parse_args("set-timeout-image", Argv{"0", ""})),
		  "invalid image '': give the path of an image file");
	EXPECT_EQ(error_of(parse_args("set-timeout-image", Argv{"0", "a", "b"})),
		  "unexpected argument 'b'");
	EXPECT_EQ(error_of(parse_args("set-timeout-image", Argv{"0", "x.png", "-t"})),
		  "option '-t' needs a value");
}

TEST(CtlArgsVersionHelp, Parse)
{
	EXPECT_TRUE(parse_args("version", Argv{"--json"})->json);
	EXPECT_TRUE(parse_args("version", Argv{"-h"})->help);
	EXPECT_EQ(error_of(parse_args("version", Argv{"x"})), "unexpected argument 'x'");
	EXPECT_FALSE(parse_args("help", Argv{})->verb);
	EXPECT_EQ(parse_args("help", Argv{"add"})->verb, "add");
	EXPECT_EQ(error_of(parse_args("help", Argv{"add", "x"})), "unexpected argument 'x'");
}
