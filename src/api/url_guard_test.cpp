#include "api/url_guard.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <atomic>

#include "api/fetch.h"
#include "api/test_http.h"

namespace vitrine::api {
namespace {

std::string Reason(const std::string& address) {
  sockaddr_storage storage{};
  if (address.find(':') != std::string::npos) {
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
    v6->sin6_family = AF_INET6;
    EXPECT_EQ(inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr), 1) << address;
  } else {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
    v4->sin_family = AF_INET;
    EXPECT_EQ(inet_pton(AF_INET, address.c_str(), &v4->sin_addr), 1) << address;
  }
  return ForbiddenReason(reinterpret_cast<sockaddr*>(&storage));
}

TEST(UrlGuardTest, RefusesEveryNonPublicRange) {
  for (const char* address : {"127.0.0.1",
                              "127.255.255.254",
                              "10.0.0.1",
                              "10.255.255.255",
                              "172.16.0.1",
                              "172.31.255.255",
                              "192.168.1.1",
                              "100.64.0.1",
                              "100.127.255.255",
                              "169.254.169.254",
                              "169.254.0.1",
                              "0.0.0.0",
                              "0.1.2.3",
                              "224.0.0.1",
                              "239.255.255.250",
                              "255.255.255.255",
                              "240.0.0.1",
                              "192.0.2.1",
                              "198.18.0.1",
                              "::",
                              "::1",
                              "fe80::1",
                              "febf::1",
                              "fc00::1",
                              "fd12:3456::1",
                              "ff02::1",
                              "::ffff:127.0.0.1",
                              "::ffff:169.254.169.254",
                              "::ffff:10.0.0.1",
                              "::127.0.0.1",
                              "64:ff9b::a9fe:a9fe",
                              "2002:7f00:1::1",
                              "2001:db8::1"}) {
    EXPECT_NE(Reason(address), "") << address << " must be refused";
  }
  EXPECT_EQ(Reason("169.254.169.254"), "link-local (cloud metadata)");
  EXPECT_EQ(Reason("::ffff:169.254.169.254"), "link-local (cloud metadata) (IPv4 in IPv6)");
}

TEST(UrlGuardTest, AcceptsPublicAddressesAtTheEdgesOfRefusedRanges) {
  for (const char* address :
       {"8.8.8.8", "1.1.1.1", "172.15.255.255", "172.32.0.1", "100.63.255.255", "100.128.0.1",
        "11.0.0.1", "169.253.255.255", "192.169.0.1", "223.255.255.255", "2606:4700:4700::1111",
        "2a00:1450:4001::200e", "::ffff:8.8.8.8", "2002:0808:0808::1"}) {
    EXPECT_EQ(Reason(address), "") << address << " is public";
  }
}

TEST(UrlGuardTest, ParsesOnlyHttpAndHttpsWithoutCredentials) {
  for (const char* url : {"file:///etc/passwd", "gopher://127.0.0.1:70/_GET", "ftp://x.org/a",
                          "dict://x.org:11211/", "javascript:alert(1)", "//x.org/a", "x.org/a",
                          "http://user:pass@x.org/", "http://x.org@127.0.0.1/", "http://:80/",
                          "http://x.org:99999/", "http://x.org:12ab/", "http://[::1/"}) {
    Result<Url> parsed = ParseUrl(url);
    ASSERT_FALSE(parsed.ok()) << url;
    EXPECT_EQ(parsed.status().code(), Code::kInvalidArgument) << url;
  }
  Result<Url> url = ParseUrl("HTTPS://Example.COM:8443/a/b?c=d#frag");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->scheme, "https");
  EXPECT_EQ(url->host, "example.com");
  EXPECT_EQ(url->port, 8443);
  EXPECT_EQ(url->target, "/a/b?c=d");
  EXPECT_EQ(ParseUrl("http://[::1]:81")->host, "::1");
  EXPECT_EQ(ParseUrl("http://x.org")->target, "/");
  EXPECT_EQ(ParseUrl("http://x.org")->port, 80);
}

TEST(UrlGuardTest, ResolvesRedirectLocations) {
  const Url base = *ParseUrl("http://a.org/dir/page?x=1");
  EXPECT_EQ(ResolveLocation(base, "/other")->ToString(), "http://a.org/other");
  EXPECT_EQ(ResolveLocation(base, "next?y=2")->ToString(), "http://a.org/dir/next?y=2");
  EXPECT_EQ(ResolveLocation(base, "//b.org/z")->ToString(), "http://b.org/z");
  EXPECT_EQ(ResolveLocation(base, "https://c.org:444/q")->ToString(), "https://c.org:444/q");
  EXPECT_FALSE(ResolveLocation(base, "file:///etc/passwd").ok());
}

TEST(UrlGuardTest, VetRefusesNamesAndNumbersThatResolveToLoopbackOrMetadata) {
  // Resolution happens first, so spelling tricks (decimal, hex, short forms) do not help.
  for (const char* url :
       {"http://127.0.0.1/", "http://localhost:8080/", "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://[::ffff:a9fe:a9fe]/",
        "http://2130706433/", "http://0x7f000001/", "http://127.1/", "http://0/",
        "http://10.1.2.3/", "http://[fe80::1]/"}) {
    Result<VettedTarget> vetted = VetUrl(url, {});
    ASSERT_FALSE(vetted.ok()) << url;
    EXPECT_EQ(vetted.status().code(), Code::kInvalidArgument) << url;
    EXPECT_NE(vetted.status().message().find("only public internet addresses"), std::string::npos)
        << vetted.status().message();
  }
}

TEST(UrlGuardTest, AllowedPrivateNetworksAdmitTheirAddressesOnly) {
  GuardOptions options;
  Result<std::vector<IpNetwork>> networks = ParseNetworks("192.168.10.0/24, fd00::/8,10.0.0.7");
  ASSERT_TRUE(networks.ok()) << networks.status().ToString();
  ASSERT_EQ(networks->size(), 3u);
  EXPECT_EQ((*networks)[0].ToString(), "192.168.10.0/24");
  EXPECT_EQ((*networks)[2].ToString(), "10.0.0.7/32");
  EXPECT_FALSE(VetUrl("http://192.168.10.20:8069/erp/hook", options).ok());  // not allowed yet
  options.allowed_networks = *networks;
  for (const char* url : {"http://192.168.10.20:8069/erp/hook", "http://[::ffff:192.168.10.5]/",
                          "http://[fd12::1]/", "http://10.0.0.7/"}) {
    EXPECT_TRUE(VetUrl(url, options).ok()) << url;
  }
  for (const char* url : {"http://192.168.11.1/", "http://10.0.0.8/", "http://127.0.0.1/",
                          "http://[fe80::1]/", "http://172.16.0.1/"}) {
    Result<VettedTarget> refused = VetUrl(url, options);
    ASSERT_FALSE(refused.ok()) << url;
    EXPECT_NE(refused.status().message().find("--allow-private-targets"), std::string::npos);
  }
  // The metadata address stays refused inside an allowed network.
  options.allowed_networks = *ParseNetworks("169.254.0.0/16");
  EXPECT_TRUE(VetUrl("http://169.254.1.1/", options).ok());
  EXPECT_FALSE(VetUrl("http://169.254.169.254/latest/meta-data/", options).ok());
}

TEST(UrlGuardTest, BadNetworksAreExplained) {
  for (const char* bad : {"192.168.10.5/24", "192.168.10.0/33", "192.168.10.0/", "office-lan",
                          "10.0.0.0/8,nope", "fd00::/129"}) {
    Result<std::vector<IpNetwork>> networks = ParseNetworks(bad);
    ASSERT_FALSE(networks.ok()) << bad;
    EXPECT_EQ(networks.status().code(), Code::kInvalidArgument);
    EXPECT_NE(networks.status().message().find("CIDR form"), std::string::npos)
        << networks.status().message();
  }
  EXPECT_TRUE(ParseNetworks("")->empty());
}

// The SSRF test of issue 6: a server the fetcher may reach (on 127.0.0.2, whose network is
// allowed, as a public host would be) redirects to loopback (127.0.0.1, not allowed) and to the
// metadata address; protection stays on for those.
class FetchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The "internal" service an attacker wants: it must never see a request.
    secret_.server().Get("/secret", [this](const httplib::Request&, httplib::Response& res) {
      ++secret_hits_;
      res.set_content("internal data", "text/plain");
    });
    secret_.Start();
    auto& pub = public_.server();
    pub.Get("/to-loopback", [this](const httplib::Request&, httplib::Response& res) {
      res.set_redirect(secret_.Url("/secret"));
    });
    pub.Get("/to-localhost", [this](const httplib::Request&, httplib::Response& res) {
      res.set_redirect("http://localhost:" + std::to_string(secret_.port()) + "/secret", 307);
    });
    pub.Get("/to-loopback-v6", [this](const httplib::Request&, httplib::Response& res) {
      res.set_redirect("http://[::ffff:127.0.0.1]:" + std::to_string(secret_.port()) + "/secret",
                       301);
    });
    pub.Get("/to-metadata", [](const httplib::Request&, httplib::Response& res) {
      res.set_redirect("http://169.254.169.254/latest/meta-data/iam/security-credentials/");
    });
    pub.Get("/to-file", [](const httplib::Request&, httplib::Response& res) {
      res.set_redirect("file:///etc/passwd");
    });
    pub.Get("/to-gopher", [](const httplib::Request&, httplib::Response& res) {
      res.set_redirect("gopher://127.0.0.1:6379/_FLUSHALL");
    });
    pub.Get(R"(/loop/(\d+))", [](const httplib::Request& req, httplib::Response& res) {
      res.set_redirect("/loop/" + std::to_string(std::stoi(req.matches[1]) + 1), 302);
    });
    pub.Get("/image", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(1000, 'x'), "image/png");
    });
    pub.Get("/hop",
            [](const httplib::Request&, httplib::Response& res) { res.set_redirect("/image"); });
    pub.Get("/big", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(300'000, 'x'), "image/png");
    });
    pub.Get("/big-chunked", [](const httplib::Request&, httplib::Response& res) {
      res.set_chunked_content_provider("image/png", [](size_t offset, httplib::DataSink& sink) {
        if (offset >= 10'000'000) {
          sink.done();
          return true;
        }
        const std::string chunk(65536, 'x');
        return sink.write(chunk.data(), chunk.size());
      });
    });
    public_.Start("127.0.0.2");
    options_.guard.allowed_networks = *ParseNetworks(public_.Network());
    options_.max_bytes = 100'000;
    options_.connect_timeout = std::chrono::milliseconds(2000);
  }

  Status FetchError(const std::string& path) {
    Result<FetchResult> result = Fetch(public_.Url(path), options_);
    EXPECT_FALSE(result.ok()) << path << " was fetched";
    return result.ok() ? Status() : result.status();
  }

  testing::LocalHttpServer secret_;
  testing::LocalHttpServer public_;
  std::atomic<int> secret_hits_{0};
  FetchOptions options_;
};

TEST_F(FetchTest, FollowsRedirectsBetweenAllowedHosts) {
  Result<FetchResult> result = Fetch(public_.Url("/hop"), options_);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(result->body, std::string(1000, 'x'));
  EXPECT_EQ(result->final_url, public_.Url("/image"));
}

TEST_F(FetchTest, RefusesRedirectsToLoopbackAndMetadata) {
  for (const char* path : {"/to-loopback", "/to-localhost", "/to-loopback-v6"}) {
    Status error = FetchError(path);
    EXPECT_EQ(error.code(), Code::kInvalidArgument) << path << ": " << error.ToString();
    EXPECT_NE(error.message().find("loopback"), std::string::npos) << error.message();
    EXPECT_NE(error.message().find("redirect from"), std::string::npos) << error.message();
  }
  // Not a timeout against an unroutable address: refused before connecting.
  Status metadata = FetchError("/to-metadata");
  EXPECT_EQ(metadata.code(), Code::kInvalidArgument) << metadata.ToString();
  EXPECT_NE(metadata.message().find("169.254.169.254, a link-local (cloud metadata) address"),
            std::string::npos)
      << metadata.message();
  EXPECT_EQ(secret_hits_.load(), 0);
}

TEST_F(FetchTest, RefusesRedirectsToOtherSchemes) {
  for (const char* path : {"/to-file", "/to-gopher"}) {
    Status error = FetchError(path);
    EXPECT_EQ(error.code(), Code::kInvalidArgument) << error.ToString();
    EXPECT_NE(error.message().find("only http and https"), std::string::npos) << error.message();
  }
}

TEST_F(FetchTest, RefusesDirectPrivateUrlsAndOtherSchemes) {
  for (const std::string& url :
       {secret_.Url("/secret"), std::string("http://169.254.169.254/latest/meta-data/"),
        std::string("http://[::1]:") + std::to_string(secret_.port()) + "/secret",
        std::string("http://192.168.0.1/"), std::string("file:///etc/passwd"),
        std::string("gopher://127.0.0.1:70/")}) {
    Result<FetchResult> result = Fetch(url, options_);
    ASSERT_FALSE(result.ok()) << url;
    EXPECT_EQ(result.status().code(), Code::kInvalidArgument) << result.status().ToString();
  }
  EXPECT_EQ(secret_hits_.load(), 0);
}

TEST_F(FetchTest, StopsAfterFiveRedirects) {
  Status error = FetchError("/loop/0");
  EXPECT_EQ(error.code(), Code::kInvalidArgument);
  EXPECT_NE(error.message().find("more than 5 times"), std::string::npos) << error.message();
  options_.max_redirects = 10;
  // /loop never ends, so even 10 is not enough; the count is the option's.
  EXPECT_NE(FetchError("/loop/0").message().find("more than 10 times"), std::string::npos);
}

TEST_F(FetchTest, CapsDownloadBytes) {
  for (const char* path : {"/big", "/big-chunked"}) {  // with and without Content-Length
    Status error = FetchError(path);
    EXPECT_EQ(error.code(), Code::kResourceExhausted) << path << ": " << error.ToString();
    EXPECT_NE(error.message().find("100000 bytes"), std::string::npos) << error.message();
  }
}

}  // namespace
}  // namespace vitrine::api
