#include "transform/redact.h"

#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "re2/re2.h"

namespace privacity::transform {
namespace {

using config::RedactPattern;

std::unique_ptr<Redactor> Make(std::vector<RedactPattern> patterns) {
  absl::StatusOr<std::unique_ptr<Redactor>> r = Redactor::Create(patterns);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *std::move(r) : nullptr;
}

std::unique_ptr<Redactor> All() {
  return Make({RedactPattern::kPlate, RedactPattern::kEmail, RedactPattern::kPhone,
               RedactPattern::kMac});
}

TEST(Redactor, NeedsPatterns) { EXPECT_FALSE(Redactor::Create({}).ok()); }

TEST(Redactor, Tags) {
  EXPECT_EQ(RedactTag(RedactPattern::kPlate), "[plate]");
  EXPECT_EQ(RedactTag(RedactPattern::kEmail), "[email]");
  EXPECT_EQ(RedactTag(RedactPattern::kPhone), "[phone]");
  EXPECT_EQ(RedactTag(RedactPattern::kMac), "[mac]");
}

// Each true positive alone, then inside a sentence.
void ExpectRedacted(const Redactor& r, const std::string& token, const std::string& tag) {
  EXPECT_EQ(r.Redact(token), tag) << token;
  EXPECT_EQ(r.Redact("see " + token + ", thanks"), "see " + tag + ", thanks") << token;
  EXPECT_EQ(r.Redact("(" + token + ")"), "(" + tag + ")") << token;
}

TEST(RedactEmail, TruePositives) {
  const auto r = All();
  for (const std::string email :
       {"jan.jansen@example.nl", "ops@demo-city.example", "a.b+tag@sub.domain.co.uk",
        "first_last@x-y.org", "J.DOE99@Mail.Example.COM", "x%y@example.museum"}) {
    ExpectRedacted(*r, email, "[email]");
  }
  EXPECT_EQ(r->Redact("mail to jan@example.nl."), "mail to [email].");
  EXPECT_EQ(r->Redact("a@example.nl;b@example.org"), "[email];[email]");
}

TEST(RedactEmail, LeavesOthersAlone) {
  const auto r = All();
  for (const std::string text : {"user@localhost", "follow @citydesk on social media",
                                 "5 @ 3 euro each", "name@", "@example.nl", "a@b.c"}) {
    EXPECT_EQ(r->Redact(text), text);
  }
}

TEST(RedactPhone, TruePositives) {
  const auto r = All();
  for (const std::string phone :
       {"+31 6 12345678", "+31612345678", "+31 (0)20 123 4567", "+44 (0)20 7946 0958",
        "+1-555-123-4567", "+33 1 23 45 67 89", "+49.30.1234567", "06-12345678",
        "0612345678", "06 12 34 56 78", "06 - 1234 5678", "020 123 4567", "020-1234567",
        "010-123 45 67", "07700 900123", "0800-1234", "(020) 123 4567", "(555) 123-4567",
        "(0161) 496 0000"}) {
    ExpectRedacted(*r, phone, "[phone]");
  }
}

TEST(RedactPhone, LeavesOthersAlone) {
  const auto r = All();
  for (const std::string text :
       {"On 01-02-2024 at 10:30 the meeting starts.", "Deadline 31.12.2024, no later.",
        "Released 2024-03-05.", "Price: EUR 1.250.000,00 or $12.99 each.",
        "We counted 1234567 visitors.", "Order 12345678 shipped.",
        "Version 2.0.1 is out.", "pi is 3.14159265", "ratio 0.12345678",
        "call 06-1234 now", "+31 6 12", "Temperatures from -5 to 12 degrees",
        "room 4.12, floor 3"}) {
    EXPECT_EQ(r->Redact(text), text);
  }
}

TEST(RedactPhone, DateNextToPhone) {
  const auto r = All();
  EXPECT_EQ(r->Redact("on 01-02-2024 call 0612345678"), "on 01-02-2024 call [phone]");
  EXPECT_EQ(r->Redact("call 0612345678 on 01-02-2024"), "call [phone] on 01-02-2024");
  // A date shape followed by more digits is not a date.
  EXPECT_EQ(r->Redact("06-12-20241234"), "[phone]");
}

TEST(RedactMac, TruePositives) {
  const auto r = All();
  for (const std::string mac :
       {"00:1A:2B:3C:4D:5E", "00:1a:2b:3c:4d:5e", "00-1A-2B-3C-4D-5E",
        "00-11-22-33-44-55", "001a.2b3c.4d5e", "0011.2233.4455"}) {
    ExpectRedacted(*r, mac, "[mac]");
  }
  EXPECT_EQ(r->Redact("camera reboot, controller MAC 00:1A:2B:3C:4D:04"),
            "camera reboot, controller MAC [mac]");
}

TEST(RedactMac, LeavesOthersAlone) {
  const auto r = All();
  for (const std::string text :
       {"at 10:30:00 sharp", "00:1A:2B:3C:4D", "00:1A-2B:3C-4D:5E", "ab:cd:ef",
        "001a.2b3c", "00:1G:2B:3C:4D:5E"}) {
    EXPECT_EQ(r->Redact(text), text);
  }
}

TEST(RedactPlate, TruePositives) {
  const auto r = All();
  for (const std::string plate :
       {// Dutch sidecodes 1-14.
        "AB-12-34", "12-34-AB", "12-AB-34", "GH-12-JK", "AB-CD-12", "12-AB-CD",
        "98-NPK-6", "1-ABC-23", "AB-123-C", "A-123-BC", "ABC-12-D", "A-12-BCD",
        "1-AB-234", "123-AB-4",
        // UK.
        "AB12 CDE", "AB12CDE",
        // Generic letter-digit mixes with dashes (French, Belgian).
        "AB-123-CD", "1-ABC-123", "B-12-X9"}) {
    ExpectRedacted(*r, plate, "[plate]");
  }
  EXPECT_EQ(
      r->Redact(
          "operator note: follow-up on 22-RHD-6 requested by ops@demo-city.example"),
      "operator note: follow-up on [plate] requested by [email]");
}

TEST(RedactPlate, LeavesOthersAlone) {
  const auto r = All();
  for (const std::string text :
       {"The quick brown fox jumps over the lazy dog.", "COVID-19 test centre",
        "ISO 9001", "send an e-mail", "an A4 sheet", "an up-to-date T-shirt",
        "Wi-Fi in room 12-B", "F-16 and K-9", "MP3-player", "2024-03-05", "AB-CD-EF",
        "12-34-56", "A-1-B", "ANPR-00017-V_ANPR-05037"}) {
    EXPECT_EQ(r->Redact(text), text);
  }
}

TEST(Redactor, OnlyChosenPatterns) {
  const std::string text =
      "plate 98-NPK-6, mail jan@example.nl, phone 0612345678, mac 00:1A:2B:3C:4D:5E";
  EXPECT_EQ(
      Make({RedactPattern::kPlate})->Redact(text),
      "plate [plate], mail jan@example.nl, phone 0612345678, mac 00:1A:2B:3C:4D:5E");
  EXPECT_EQ(Make({RedactPattern::kEmail})->Redact(text),
            "plate 98-NPK-6, mail [email], phone 0612345678, mac 00:1A:2B:3C:4D:5E");
  EXPECT_EQ(Make({RedactPattern::kPhone})->Redact(text),
            "plate 98-NPK-6, mail jan@example.nl, phone [phone], mac 00:1A:2B:3C:4D:5E");
  EXPECT_EQ(Make({RedactPattern::kMac})->Redact(text),
            "plate 98-NPK-6, mail jan@example.nl, phone 0612345678, mac [mac]");
  EXPECT_EQ(All()->Redact(text), "plate [plate], mail [email], phone [phone], mac [mac]");
}

TEST(Redactor, EmptyAndMultiByteText) {
  const auto r = All();
  EXPECT_EQ(r->Redact(""), "");
  EXPECT_EQ(
      r->Redact("Caf\xC3\xA9 \xE2\x82\xAC 12,50 \xF0\x9F\x9A\xB2 0612345678 \xC3\xA9"),
      "Caf\xC3\xA9 \xE2\x82\xAC 12,50 \xF0\x9F\x9A\xB2 [phone] \xC3\xA9");
}

TEST(Redactor, LargeAdversarialInputFinishes) {
  const auto r = All();
  std::string text;
  for (int i = 0; i < 20000; ++i) text += "a@a.0-00:0(0)+1 ";
  const std::string out = r->Redact(text);
  EXPECT_EQ(out, text);  // nothing here is a complete token
  std::string many;
  for (int i = 0; i < 20000; ++i) many += "06-12345678 ";
  // Numbers one space apart may be redacted together, but no digit of any
  // of them is left.
  const std::string got = r->Redact(many);
  EXPECT_EQ(got.find_first_of("0123456789"), std::string::npos);
  EXPECT_NE(got.find("[phone]"), std::string::npos);
}

TEST(RedactPhone, NumbersSideBySideLeaveNoDigits) {
  const auto r = All();
  for (const std::string text :
       {"06-12345678 06-12345678", "06-12345678 06-87654321 020-1234567",
        "0612345678 0687654321", "06 12 34 56 78 06 87 65 43 21",
        "+31 6 12345678 +31 6 87654321"}) {
    const std::string got = r->Redact(text);
    EXPECT_EQ(got.find_first_of("0123456789"), std::string::npos)
        << text << " -> " << got;
  }
}

// The demo city's ANPR notes hold plates, e-mail and MAC addresses: after
// redaction none of them is left.
TEST(Redactor, DemoCityNotes) {
  const std::string path =
      std::string(PRIVACITY_SOURCE_DIR) + "/examples/demo-city/data/traffic.anpr.ndjson";
  std::ifstream in(path);
  if (!in) GTEST_SKIP() << "demo data not found: " << path;
  const auto r = All();
  const RE2 plate(R"([0-9]{2}-[A-Z]{3}-[0-9])");
  const RE2 mac(R"([0-9A-F]{2}(:[0-9A-F]{2}){5})");
  int notes = 0;
  std::string line;
  while (std::getline(in, line)) {
    const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_FALSE(j.is_discarded());
    const auto note = j.find("note");
    if (note == j.end()) continue;
    ++notes;
    const std::string out = r->Redact(note->get<std::string>());
    EXPECT_FALSE(RE2::PartialMatch(out, plate)) << "line " << notes;
    EXPECT_FALSE(RE2::PartialMatch(out, mac)) << "line " << notes;
    EXPECT_EQ(out.find('@'), std::string::npos) << "line " << notes;
    EXPECT_NE(out.find('['), std::string::npos) << "line " << notes;
  }
  EXPECT_GT(notes, 0);
}

}  // namespace
}  // namespace privacity::transform
