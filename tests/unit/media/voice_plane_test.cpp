// Voice sessions through the media plane, over loopback sockets: a test peer plays the phone.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <thread>

#include "media/g711_codec.h"
#include "media/media_plane.h"
#include "media/rtp_packet.h"
#include "media_test_support.h"
#include "plane_test_support.h"
#include "rtp_test_packets.h"

namespace b2bua::media {
namespace {

using namespace std::chrono_literals;
using namespace test;

constexpr uint8_t kTelephoneEvent = 101;

MediaSettings voice_settings() { return plane_settings(30700, 30799); }

Allocation must_allocate_voice(MediaPlane& plane) { return allocated(plane.allocate_voice(LegSpec{"127.0.0.1"})); }

AudioPtr tone(int ms, double hz, double amplitude) {
  auto a = std::make_shared<Audio>();
  const double pi = std::acos(-1.0);
  for (int i = 0; i < ms * 8; ++i) a->samples.push_back(static_cast<int16_t>(amplitude * std::sin(2 * pi * hz * i / 8000.0)));
  return a;
}

// A PCMU packet of a 1 kHz sine: the peer talking.
std::vector<uint8_t> pcmu_packet(uint16_t seq, uint32_t ts, uint32_t ssrc) {
  auto p = test::rtp_packet(seq, ts, ssrc, kPayloadPcmu, 160);
  const double pi = std::acos(-1.0);
  int16_t pcm[160];
  for (int i = 0; i < 160; ++i) pcm[i] = static_cast<int16_t>(6000 * std::sin(2 * pi * 1000 * (ts + i) / 8000.0));
  g711_encode(kPayloadPcmu, pcm, 160, p.data() + 12);
  return p;
}

std::vector<uint8_t> event_packet(uint16_t seq, uint32_t ts, uint32_t ssrc, uint8_t code, bool end, uint16_t duration) {
  auto p = test::rtp_packet(seq, ts, ssrc, kTelephoneEvent, 4);
  p[12] = code;
  p[13] = static_cast<uint8_t>((end ? 0x80 : 0) | 10);
  p[14] = static_cast<uint8_t>(duration >> 8);
  p[15] = static_cast<uint8_t>(duration);
  return p;
}

bool is_voice(const MediaEvent& e, VoiceEvent::Kind kind) { return e.kind == MediaEvent::voice && e.voice_event.kind == kind; }

TEST(VoicePlane, PlaysAPromptInPacedPacketsRecordsThePeerAndHearsItsKeyOnce) {
  QueuedEvents events;
  auto plane = start_media_plane(voice_settings(), events);
  const Allocation a = must_allocate_voice(*plane);
  EXPECT_EQ(a.legs[0].ip, "127.0.0.1");
  EXPECT_EQ(a.legs[0].rtcp_port, a.legs[0].rtp_port + 1);
  EXPECT_EQ(a.legs[1].rtp_port, 0);
  Peer phone;
  plane->set_voice_format(a.id, VoiceFormat{kPayloadPcmu, kTelephoneEvent});
  plane->play(a.id, tone(1000, 440, 8000), 7);  // waits for the peer's address
  plane->record(a.id, RecordSpec{.max_ms = 10000, .silence_ms = 0, .initial_silence_ms = 0});
  plane->set_remote(a.id, 0, remote_of(phone));

  // The prompt: 50 packets of 20 ms, PCMU, consecutive sequence numbers, paced in real time.
  std::vector<std::vector<uint8_t>> got;
  auto first_at = std::chrono::steady_clock::now();
  auto last_at = first_at;
  while (got.size() < 60) {
    auto d = phone.receive(300);
    if (d.empty()) break;
    if ((d[1] & 0x7f) == 20) continue;  // keep-alive
    last_at = std::chrono::steady_clock::now();
    if (got.empty()) first_at = last_at;
    got.push_back(std::move(d));
  }
  ASSERT_EQ(got.size(), 50u);
  EXPECT_GE(last_at - first_at, 900ms);  // not a burst
  EXPECT_TRUE(got[0][1] & 0x80);         // marker: the talk spurt starts
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i].size(), 172u);
    EXPECT_EQ(got[i][1] & 0x7f, kPayloadPcmu);
    EXPECT_EQ(static_cast<uint16_t>(read_be16(got[i].data() + 2) - read_be16(got[0].data() + 2)), i);
    EXPECT_EQ(read_be32(got[i].data() + 4) - read_be32(got[0].data() + 4), 160u * i);
    EXPECT_EQ(read_be32(got[i].data() + 8), read_be32(got[0].data() + 8));
    if (i > 0) {
      EXPECT_FALSE(got[i][1] & 0x80) << i;
    }
  }
  EXPECT_TRUE(events.wait_for([](const MediaEvent& e) { return is_voice(e, VoiceEvent::Kind::played) && e.voice_event.tag == 7; }, 2s));

  // The peer talks for half a second, then presses 5 (RFC 4733: start, update, end three times).
  const Endpoint to = relay_rtp(a.legs[0]);
  uint32_t ts = 5000;
  for (uint16_t seq = 0; seq < 25; ++seq, ts += 160) phone.send_to(to, pcmu_packet(seq, ts, 0xabc));
  for (uint16_t i = 0; i < 5; ++i) {
    phone.send_to(to, event_packet(static_cast<uint16_t>(25 + i), ts, 0xabc, 5, i >= 2, static_cast<uint16_t>(160 * (i + 1))));
  }
  ASSERT_TRUE(events.wait_for([](const MediaEvent& e) { return is_voice(e, VoiceEvent::Kind::dtmf); }, 2s));
  plane->stop_recording(a.id);
  ASSERT_TRUE(events.wait_for([](const MediaEvent& e) { return is_voice(e, VoiceEvent::Kind::recorded); }, 2s));
  std::this_thread::sleep_for(100ms);
  events.queue.drain([&](MediaEvent& e) { events.seen.push_back(std::move(e)); });

  EXPECT_EQ(std::count_if(events.seen.begin(), events.seen.end(),
                          [](const MediaEvent& e) { return is_voice(e, VoiceEvent::Kind::dtmf) && e.voice_event.digit == '5'; }),
            1);
  EXPECT_EQ(std::count_if(events.seen.begin(), events.seen.end(),
                          [](const MediaEvent& e) { return is_voice(e, VoiceEvent::Kind::dtmf); }),
            1);
  const auto rec = std::find_if(events.seen.begin(), events.seen.end(),
                                [](const MediaEvent& e) { return is_voice(e, VoiceEvent::Kind::recorded); });
  ASSERT_NE(rec, events.seen.end());
  EXPECT_EQ(rec->voice_event.recording.end, Recording::End::stopped);
  ASSERT_EQ(rec->voice_event.recording.samples.size(), 25u * 160);
  const auto& s = rec->voice_event.recording.samples;
  const double pi = std::acos(-1.0);
  for (size_t i = 0; i < s.size(); i += 37) {
    EXPECT_NEAR(s[i], 6000 * std::sin(2 * pi * 1000 * (5000 + static_cast<double>(i)) / 8000.0), 300) << i;
  }

  const auto stats = query_now(*plane, a.id);
  EXPECT_EQ(stats[0].packets, 30u);
  EXPECT_GE(stats[0].packets_sent, 50u);
  EXPECT_EQ(stats[0].latched, phone.address());
  EXPECT_EQ(stats[1].packets, 0u);
  EXPECT_EQ(stats[1].packets_sent, 0u);
}

TEST(VoicePlane, ReleaseWhileRecordingDeliversTheRecordingBeforeTheReleasedSession) {
  QueuedEvents events;
  auto plane = start_media_plane(voice_settings(), events);
  const Allocation a = must_allocate_voice(*plane);
  Peer phone;
  plane->set_remote(a.id, 0, remote_of(phone));
  plane->record(a.id, RecordSpec{});
  const Endpoint to = relay_rtp(a.legs[0]);
  for (uint16_t seq = 0; seq < 5; ++seq) phone.send_to(to, pcmu_packet(seq, 160u * seq, 0x77));
  ASSERT_TRUE(events.wait_for([](const MediaEvent& e) { return e.kind == MediaEvent::latched; }, 2s));
  std::this_thread::sleep_for(50ms);  // the rest of the burst is read with the first
  plane->release(a.id);
  ASSERT_TRUE(events.wait_for([](const MediaEvent& e) { return e.kind == MediaEvent::released; }, 2s));
  const auto rec = std::find_if(events.seen.begin(), events.seen.end(),
                                [](const MediaEvent& e) { return is_voice(e, VoiceEvent::Kind::recorded); });
  const auto rel = std::find_if(events.seen.begin(), events.seen.end(),
                                [](const MediaEvent& e) { return e.kind == MediaEvent::released; });
  ASSERT_NE(rec, events.seen.end());
  EXPECT_LT(rec - events.seen.begin(), rel - events.seen.begin());
  EXPECT_EQ(rec->voice_event.recording.end, Recording::End::released);
  EXPECT_EQ(rec->voice_event.recording.samples.size(), 5u * 160);
  EXPECT_EQ(rel->stats[0].packets, 5u);
}

TEST(VoicePlane, StopPlayingDropsThePromptAndTheQueueReportingEach) {
  QueuedEvents events;
  auto plane = start_media_plane(voice_settings(), events);
  const Allocation a = must_allocate_voice(*plane);
  Peer phone;
  plane->set_remote(a.id, 0, remote_of(phone));
  plane->play(a.id, tone(5000, 440, 8000), 1);
  plane->play(a.id, tone(5000, 440, 8000), 2);
  EXPECT_GE(phone.count_media(300, 5), 5u);
  plane->stop_playing(a.id);
  ASSERT_TRUE(events.wait_for([](const MediaEvent& e) { return is_voice(e, VoiceEvent::Kind::played) && e.voice_event.tag == 2; }, 2s));
  EXPECT_TRUE(events.wait_for([](const MediaEvent& e) { return is_voice(e, VoiceEvent::Kind::played) && e.voice_event.tag == 1; }, 0ms));
  phone.count_media(100);  // what was on its way
  EXPECT_EQ(phone.count_media(200), 0u);  // then nothing: the prompts are gone
}

TEST(VoicePlane, APeerThatSendsNothingTimesTheSessionOut) {
  QueuedEvents events;
  MediaSettings s = voice_settings();
  s.timeout_s = 1;
  auto plane = start_media_plane(s, events);
  const Allocation a = must_allocate_voice(*plane);
  Peer phone;
  plane->set_remote(a.id, 0, remote_of(phone));
  EXPECT_TRUE(events.wait_for([&](const MediaEvent& e) { return e.kind == MediaEvent::timeout && e.id == a.id; }, 3s));
}

}  // namespace
}  // namespace b2bua::media
