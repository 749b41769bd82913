// SPDX-License-Identifier: GPL-2.0
// v4l2loopback-ctl: JSON output (escaping, structure) and text tables.
#include <gtest/gtest.h>

#include <limits>

#include "output.h"

using namespace v4l2lb;

TEST(CtlJson, QuotePlain)
{
	EXPECT_EQ(json_quote(""), "\"\"");
	EXPECT_EQ(json_quote("Dummy video device (0x0000)"), "\"Dummy video device (0x0000)\"");
}

TEST(CtlJson, QuoteEscapes)
{
	EXPECT_EQ(json_quote("a\"b"), "\"a\\\"b\"");
	EXPECT_EQ(json_quote("a\\b"), "\"a\\\\b\"");
	EXPECT_EQ(json_quote("a/b"), "\"a/b\"");
	EXPECT_EQ(json_quote("\n\r\t\b\f"), "\"\\n\\r\\t\\b\\f\"");
	EXPECT_EQ(json_quote(std::string("\x01\x1f\x7f", 3)), "\"\\u0001\\u001f\\u007f\"");
	EXPECT_EQ(json_quote(std::string("a\0b", 3)), "\"a\\u0000b\"");
}

TEST(CtlJson, QuoteUtf8)
{
	// Valid UTF-8 is kept as is.
	EXPECT_EQ(json_quote("Kamera \xc3\xa4\xe2\x82\xac\xf0\x9f\x8e\xa5"),
		  "\"Kamera \xc3\xa4\xe2\x82\xac\xf0\x9f\x8e\xa5\"");
	// Invalid bytes (a cut label, Latin-1, overlong, surrogate) become U+FFFD.
	EXPECT_EQ(json_quote("ab\xc3"), "\"ab\\ufffd\"");
	EXPECT_EQ(json_quote("caf\xe9!"), "\"caf\\ufffd!\"");
	EXPECT_EQ(json_quote("\xc0\xaf"), "\"\\ufffd\\ufffd\"");
	EXPECT_EQ(json_quote("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");
	EXPECT_EQ(json_quote("\xf4\x90\x80\x80"), "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
}

TEST(CtlJson, Scalars)
{
	EXPECT_EQ(Json().dump(), "null");
	EXPECT_EQ(Json(true).dump(), "true");
	EXPECT_EQ(Json(false).dump(), "false");
	EXPECT_EQ(Json(42).dump(), "42");
	EXPECT_EQ(Json(-1).dump(), "-1");
	EXPECT_EQ(Json(4294967295u).dump(), "4294967295");
	EXPECT_EQ(Json(29.97002997).dump(), "29.97002997");
	EXPECT_EQ(Json(std::numeric_limits<double>::infinity()).dump(), "null");
	EXPECT_EQ(Json("x\"y").dump(), "\"x\\\"y\"");
}

TEST(CtlJson, NestedStructureKeepsOrder)
{
	Json dev = Json::object();
	dev.set("device", "/dev/video3").set("number", 3).set("name", "tab\there");
	dev.set("exclusive_caps", Json());
	Json arr = Json::array();
	arr.push(std::move(dev));
	arr.push(Json::object());
	EXPECT_EQ(arr.dump(), "[\n"
			      "  {\n"
			      "    \"device\": \"/dev/video3\",\n"
			      "    \"number\": 3,\n"
			      "    \"name\": \"tab\\there\",\n"
			      "    \"exclusive_caps\": null\n"
			      "  },\n"
			      "  {}\n"
			      "]");
	EXPECT_EQ(Json::array().dump(), "[]");
}

TEST(CtlJson, KeysAreEscapedToo)
{
	Json j = Json::object();
	j.set("a\"b", 1);
	EXPECT_EQ(j.dump(), "{\n  \"a\\\"b\": 1\n}");
}

TEST(CtlTable, AlignsColumns)
{
	const std::string t = format_table(
		{"DEVICE", "NAME", "FORMAT"},
		{{"/dev/video3", "OBS", "YUYV:640x480@30"},
		 {"/dev/video10", "Dummy video device (0x0001)", "NV12:2x2"}});
	EXPECT_EQ(t, "DEVICE        NAME                         FORMAT\n"
		     "/dev/video3   OBS                          YUYV:640x480@30\n"
		     "/dev/video10  Dummy video device (0x0001)  NV12:2x2\n");
}

TEST(CtlTable, Utf8WidthAndControlCharacters)
{
	const std::string t = format_table({"A", "B"}, {{"\xc3\xa4\xc3\xa4", "x"}, {"a\nb", "y"}});
	EXPECT_EQ(t, "A    B\n"
		     "\xc3\xa4\xc3\xa4   x\n"
		     "a?b  y\n");
}

TEST(CtlTable, ShortRowsAndNoTrailingSpaces)
{
	const std::string t = format_table({"A", "B"}, {{"1"}});
	EXPECT_EQ(t, "A  B\n1\n");
}
