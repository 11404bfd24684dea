export { ALL_TOPICS, RETRY_LANE_HEADER, Topics, type Topic } from './topics.ts';
export { SCHEMA_VERSION, envelope, fromRecord, toRecord, topicOf, type EncodedRecord, type Envelope, type EnvelopeMeta, type EventBody, type EventCase, type EventOf } from './envelope.ts';
export { fieldMapToPlain, fieldValue, plainToFieldMap, plainValue, type PlainFields } from './field-values.ts';
