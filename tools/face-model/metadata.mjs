// TFLite model metadata (tensorflow/lite/schema/metadata_schema.fbs, file identifier "M001")
// for BlazeFace short range, built with the flatbuffers Builder. Only the tables this model
// needs are written; field indices are the schema's.
import { Builder } from 'flatbuffers';

/** Field indices (slot numbers) of the metadata_schema.fbs tables used here. */
const ModelMetadata = { name: 0, description: 1, version: 2, subgraph_metadata: 3, author: 4, license: 5, associated_files: 6, min_parser_version: 7, count: 8 };
const SubGraphMetadata = { name: 0, description: 1, input_tensor_metadata: 2, output_tensor_metadata: 3, count: 10 };
const TensorMetadata = { name: 0, description: 1, dimension_names: 2, content: 3, process_units: 4, stats: 5, count: 7 };
const Content = { content_properties_type: 0, content_properties: 1, range: 2, count: 3 };
const ProcessUnit = { options_type: 0, options: 1, count: 2 };
const NormalizationOptions = { mean: 0, std: 1, count: 2 };
const Stats = { max: 0, min: 1, count: 2 };
const ImageProperties = { color_space: 0, default_size: 1, count: 2 };
/** union ContentProperties, union ProcessUnitOptions, enum ColorSpaceType. */
export const ContentPropertiesType = { FeatureProperties: 1, ImageProperties: 2 };
export const ProcessUnitOptionsType = { NormalizationOptions: 1 };
export const ColorSpaceType = { RGB: 1 };

/**
 * What the detector's metadata says: an RGB image input normalised as (x - mean) / std into
 * [-1, 1], and the two raw outputs (box/keypoint regressors, scores) that the task's own
 * post-processing decodes.
 */
export const BLAZE_FACE_SHORT_RANGE = {
  name: 'Short Range Face Detection',
  description: 'Detects human face with frontal camera',
  version: '1',
  author: 'MediaPipe',
  minParserVersion: '1.0.0',
  input: { name: 'image', description: 'Input image to be detected', mean: 127.5, std: 127.5, min: -1, max: 1 },
  outputs: [
    { name: 'raw boxes/keypoints', description: 'Undecoded face bboxes location and keypoints' },
    { name: 'scores', description: 'Scores of the detected bboxes.' },
  ],
};

function floatVector(b, values) {
  b.startVector(4, values.length, 4);
  for (let i = values.length - 1; i >= 0; i--) b.addFloat32(values[i]);
  return b.endVector();
}

function offsetVector(b, offsets) {
  b.startVector(4, offsets.length, 4);
  for (let i = offsets.length - 1; i >= 0; i--) b.addOffset(offsets[i]);
  return b.endVector();
}

function featureTensor(b, t) {
  const name = b.createString(t.name);
  const description = b.createString(t.description);
  b.startObject(0);
  const props = b.endObject();
  b.startObject(Content.count);
  b.addFieldInt8(Content.content_properties_type, ContentPropertiesType.FeatureProperties, 0);
  b.addFieldOffset(Content.content_properties, props, 0);
  const content = b.endObject();
  b.startObject(Stats.count);
  const stats = b.endObject();
  b.startObject(TensorMetadata.count);
  b.addFieldOffset(TensorMetadata.name, name, 0);
  b.addFieldOffset(TensorMetadata.description, description, 0);
  b.addFieldOffset(TensorMetadata.content, content, 0);
  b.addFieldOffset(TensorMetadata.stats, stats, 0);
  return b.endObject();
}

function imageTensor(b, t) {
  const name = b.createString(t.name);
  const description = b.createString(t.description);
  b.startObject(ImageProperties.count);
  b.addFieldInt8(ImageProperties.color_space, ColorSpaceType.RGB, 0);
  const props = b.endObject();
  b.startObject(Content.count);
  b.addFieldInt8(Content.content_properties_type, ContentPropertiesType.ImageProperties, 0);
  b.addFieldOffset(Content.content_properties, props, 0);
  const content = b.endObject();
  const mean = floatVector(b, [t.mean]);
  const std = floatVector(b, [t.std]);
  b.startObject(NormalizationOptions.count);
  b.addFieldOffset(NormalizationOptions.mean, mean, 0);
  b.addFieldOffset(NormalizationOptions.std, std, 0);
  const norm = b.endObject();
  b.startObject(ProcessUnit.count);
  b.addFieldInt8(ProcessUnit.options_type, ProcessUnitOptionsType.NormalizationOptions, 0);
  b.addFieldOffset(ProcessUnit.options, norm, 0);
  const unit = b.endObject();
  const units = offsetVector(b, [unit]);
  const max = floatVector(b, [t.max]);
  const min = floatVector(b, [t.min]);
  b.startObject(Stats.count);
  b.addFieldOffset(Stats.max, max, 0);
  b.addFieldOffset(Stats.min, min, 0);
  const stats = b.endObject();
  b.startObject(TensorMetadata.count);
  b.addFieldOffset(TensorMetadata.name, name, 0);
  b.addFieldOffset(TensorMetadata.description, description, 0);
  b.addFieldOffset(TensorMetadata.content, content, 0);
  b.addFieldOffset(TensorMetadata.process_units, units, 0);
  b.addFieldOffset(TensorMetadata.stats, stats, 0);
  return b.endObject();
}

/** The metadata flatbuffer ("M001") for a model described like {@link BLAZE_FACE_SHORT_RANGE}. */
export function buildMetadata(m = BLAZE_FACE_SHORT_RANGE) {
  const b = new Builder(1024);
  const input = imageTensor(b, m.input);
  const outputs = m.outputs.map((t) => featureTensor(b, t));
  const inputs = offsetVector(b, [input]);
  const outs = offsetVector(b, outputs);
  b.startObject(SubGraphMetadata.count);
  b.addFieldOffset(SubGraphMetadata.input_tensor_metadata, inputs, 0);
  b.addFieldOffset(SubGraphMetadata.output_tensor_metadata, outs, 0);
  const subgraph = b.endObject();
  const subgraphs = offsetVector(b, [subgraph]);
  const name = b.createString(m.name);
  const description = b.createString(m.description);
  const version = b.createString(m.version);
  const author = b.createString(m.author);
  const minParser = b.createString(m.minParserVersion);
  b.startObject(ModelMetadata.count);
  b.addFieldOffset(ModelMetadata.name, name, 0);
  b.addFieldOffset(ModelMetadata.description, description, 0);
  b.addFieldOffset(ModelMetadata.version, version, 0);
  b.addFieldOffset(ModelMetadata.subgraph_metadata, subgraphs, 0);
  b.addFieldOffset(ModelMetadata.author, author, 0);
  b.addFieldOffset(ModelMetadata.min_parser_version, minParser, 0);
  const root = b.endObject();
  b.finish(root, 'M001');
  return b.asUint8Array().slice();
}
