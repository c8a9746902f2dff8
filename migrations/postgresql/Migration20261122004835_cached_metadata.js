'use strict';
Object.defineProperty(exports, '__esModule', { value: true });
const { Migration } = require('@mikro-orm/migrations');

class Migration20261122004835_cached_metadata extends Migration {

  name = 'Migration20261122004835_cached_metadata';

  async up() {
    this.addSql(`create table "cached_metadata" ("id" serial primary key, "registry" varchar(64) not null, "key_hash" varchar(64) not null, "cache_key" text not null, "package_name" varchar(512) null, "storage_key" varchar(1024) not null, "sha256" varchar(64) not null, "size" bigint not null, "content_type" varchar(255) not null, "etag" text null, "last_modified" varchar(64) null, "upstream" text not null, "fetched_at" timestamptz not null, "expires_at" timestamptz not null);`);
    this.addSql(`create index "cached_metadata_registry_package_name_index" on "cached_metadata" ("registry", "package_name");`);
    this.addSql(`alter table "cached_metadata" add constraint "cached_metadata_registry_key_hash_unique" unique ("registry", "key_hash");`);
  }

  async down() {
    this.addSql(`drop table if exists "cached_metadata" cascade;`);
  }

}
exports.Migration20261122004835_cached_metadata = Migration20261122004835_cached_metadata;
