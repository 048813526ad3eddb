// vitrine keys: create, list and revoke API keys.
#include <cstdio>

#include "api/auth.h"
#include "api/store_backend.h"
#include "app/commands.h"
#include "app/server_flags.h"

namespace vitrine::app {
namespace {

std::string KeyId(int64_t id) { return "key_" + std::to_string(id); }

}  // namespace

void AddKeys(CLI::App& cli, const Config&, int* exit_code) {
  auto* cmd = cli.add_subcommand("keys", "Create, list or revoke API keys");
  cmd->require_subcommand(1);
  auto flags = std::make_shared<ServerFlags>();

  struct CreateArgs {
    std::string name;
    std::string tenant = "default";
  };
  auto create_args = std::make_shared<CreateArgs>();
  auto* create = cmd->add_subcommand("create", "Create a key; it is printed once, last");
  flags->AddTo(create, /*workers=*/false);
  create->add_option("--name", create_args->name, "A name to recognise the key by")->required();
  create
      ->add_option("--tenant", create_args->tenant, "The tenant whose jobs and files the key sees")
      ->capture_default_str();
  create->callback([flags, create_args, exit_code] {
    Result<std::unique_ptr<store::JobStore>> store = flags->OpenStore();
    Result<api::NewApiKey> key =
        store.ok() ? api::GenerateApiKey() : Result<api::NewApiKey>(store.status());
    Result<store::ApiKey> stored =
        key.ok() ? (*store)->CreateApiKey(create_args->name, create_args->tenant, key->sha256)
                 : Result<store::ApiKey>(key.status());
    Result<std::string> secret =
        stored.ok() ? api::TenantWebhookSecret(api::DataPaths{flags->data}, create_args->tenant)
                    : Result<std::string>(stored.status());
    if (!secret.ok()) {
      *exit_code = Fail(secret.status());
      return;
    }
    std::printf("created %s \"%s\" for tenant %s\n", KeyId(stored->id).c_str(),
                create_args->name.c_str(), create_args->tenant.c_str());
    std::printf("webhook signing secret of tenant %s: %s\n", create_args->tenant.c_str(),
                secret->c_str());
    std::printf("the key is shown only now; keep it secret: %s\n", key->key.c_str());
  });

  auto* list = cmd->add_subcommand("list", "List the keys (never the keys themselves)");
  flags->AddTo(list, /*workers=*/false);
  list->callback([flags, exit_code] {
    Result<std::unique_ptr<store::JobStore>> store = flags->OpenStore();
    Result<std::vector<store::ApiKey>> keys =
        store.ok() ? (*store)->ListApiKeys() : Result<std::vector<store::ApiKey>>(store.status());
    if (!keys.ok()) {
      *exit_code = Fail(keys.status());
      return;
    }
    for (const store::ApiKey& key : *keys) {
      std::printf("%-8s %-20s tenant %-12s %s\n", KeyId(key.id).c_str(), key.name.c_str(),
                  key.tenant.c_str(), key.revoked ? "revoked" : "active");
    }
  });

  auto which = std::make_shared<std::string>();
  auto* revoke = cmd->add_subcommand("revoke", "Revoke a key by id (key_N) or name");
  flags->AddTo(revoke, /*workers=*/false);
  revoke->add_option("key", *which, "The key's id (key_3) or name")->required();
  revoke->callback([flags, which, exit_code] {
    Result<std::unique_ptr<store::JobStore>> store = flags->OpenStore();
    Result<std::vector<store::ApiKey>> keys =
        store.ok() ? (*store)->ListApiKeys() : Result<std::vector<store::ApiKey>>(store.status());
    if (!keys.ok()) {
      *exit_code = Fail(keys.status());
      return;
    }
    std::vector<const store::ApiKey*> matches;
    for (const store::ApiKey& key : *keys) {
      if (KeyId(key.id) == *which || std::to_string(key.id) == *which || key.name == *which) {
        matches.push_back(&key);
      }
    }
    if (matches.size() != 1) {
      *exit_code = Fail(InvalidArgument(
          matches.empty() ? "no key '" + *which + "'; `vitrine keys list` shows the keys"
                          : "several keys are named '" + *which +
                                "'; revoke one by its id (`vitrine keys list`)"));
      return;
    }
    Status revoked = (*store)->RevokeApiKey(matches[0]->id);
    if (!revoked.ok()) {
      *exit_code = Fail(revoked);
      return;
    }
    std::printf("revoked %s \"%s\"\n", KeyId(matches[0]->id).c_str(), matches[0]->name.c_str());
  });
}

}  // namespace vitrine::app
