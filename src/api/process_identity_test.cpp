#include "api/process_identity.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace vitrine::api {
namespace {

TEST(ProcessIdentityTest, SelfIsReadFromProcAndRoundTrips) {
  const ProcessIdentity& self = SelfIdentity();
  EXPECT_EQ(self.pid, ::getpid());
  EXPECT_EQ(self.boot_id.size(), 36u) << self.boot_id;  // a UUID
  EXPECT_NE(self.pid_namespace, "unknown");
  EXPECT_NE(self.start_time, "unknown");
  std::optional<ProcessIdentity> parsed = ProcessIdentity::Parse(self.ToString() + "/3");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->ToString(), self.ToString());
  EXPECT_FALSE(ProcessIdentity::Parse("myhost/4242/0").has_value());  // the old host/pid/n form
  EXPECT_FALSE(IsProvablyDead(self.ToString() + "/0"));               // this very process
}

TEST(ProcessIdentityTest, AKilledChildIsProvablyDeadAndALiveOneIsNot) {
  pid_t child = fork();
  if (child == 0) {
    pause();
    _exit(0);
  }
  ASSERT_GT(child, 0);
  ProcessIdentity id = SelfIdentity();
  id.pid = child;
  std::optional<std::string> start = ProcStartTime(child);
  ASSERT_TRUE(start.has_value());
  id.start_time = *start;
  const std::string owner = id.ToString() + "/0";
  EXPECT_FALSE(IsProvablyDead(owner)) << "the child is alive";
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  EXPECT_TRUE(IsProvablyDead(owner)) << "the child was killed and reaped";
}

TEST(ProcessIdentityTest, OnlyOwnersOfThisHostBootAndPidNamespaceCanBeProvenDead) {
  ProcessIdentity self{"box", "boot-a", "4026531836", 100, "5000"};
  ProcessIdentity other = self;
  other.pid = 200;
  other.start_time = "7000";
  const auto gone = [](int64_t) { return std::optional<std::string>(); };
  const auto alive = [](int64_t) { return std::optional<std::string>("7000"); };
  const auto reused = [](int64_t) { return std::optional<std::string>("9999"); };
  EXPECT_TRUE(IsProvablyDead(other.ToString() + "/1", self, gone));
  EXPECT_FALSE(IsProvablyDead(other.ToString() + "/1", self, alive));
  EXPECT_TRUE(IsProvablyDead(other.ToString() + "/1", self, reused)) << "its pid was reused";
  // Another container with the same host name: another pid namespace or boot, so pid 200 here
  // says nothing about it.
  ProcessIdentity other_namespace = other;
  other_namespace.pid_namespace = "4026532999";
  ProcessIdentity other_boot = other;
  other_boot.boot_id = "boot-b";
  ProcessIdentity other_host = other;
  other_host.host = "other-box";
  for (const ProcessIdentity& elsewhere : {other_namespace, other_boot, other_host}) {
    EXPECT_FALSE(IsProvablyDead(elsewhere.ToString() + "/1", self, gone)) << elsewhere.ToString();
  }
  EXPECT_FALSE(IsProvablyDead("box/200/1", self, gone)) << "an old-style id proves nothing";
  ProcessIdentity blind = self;
  blind.boot_id = "unknown";
  ProcessIdentity blind_other = other;
  blind_other.boot_id = "unknown";
  EXPECT_FALSE(IsProvablyDead(blind_other.ToString() + "/1", blind, gone)) << "no /proc";
}

}  // namespace
}  // namespace vitrine::api
