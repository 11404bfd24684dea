export { MongoStore, STORE_UNAVAILABLE, databaseFromUri, type MongoStoreOptions, type StoredShape } from './mongo.store.ts';
