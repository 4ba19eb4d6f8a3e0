/**
 * The notes themselves, in memory. Bounded, because benchmarks create notes in
 * a loop against a process that may run for hours.
 */
import { randomUUID } from "node:crypto";
import { clone, create } from "@bufbuild/protobuf";
import { type Note, NoteSchema } from "@grpc-edge/proto/demo/notes/v1/notes";

export interface NotesStore {
  /** Adds a note with a new random id. */
  create(text: string, author: string): Note;
  get(id: string): Note | undefined;
  /** Returns false when there was no such note. */
  delete(id: string): boolean;
  /** Every note, oldest first (a snapshot: later changes do not affect it). */
  list(): Note[];
  /** The newest note, if any. */
  latest(): Note | undefined;
}

export interface NotesStoreOptions {
  /** Past this many notes the oldest is dropped. Default 10,000. */
  readonly maxNotes?: number;
}

/** Creates an empty store. Notes handed out are copies, so callers cannot change the store by accident. */
export function createNotesStore(options: NotesStoreOptions = {}): NotesStore {
  const maxNotes = options.maxNotes ?? 10_000;
  if (!(Number.isInteger(maxNotes) && maxNotes > 0)) {
    throw new RangeError(`maxNotes must be a positive integer, got ${maxNotes}`);
  }
  // A Map keeps insertion order: the first key is the oldest note.
  const notes = new Map<string, Note>();
  const copy = (note: Note | undefined) => (note ? clone(NoteSchema, note) : undefined);
  return {
    create(text, author) {
      const note = create(NoteSchema, { id: randomUUID(), text, author });
      notes.set(note.id, note);
      if (notes.size > maxNotes) {
        const oldest = notes.keys().next();
        if (!oldest.done) notes.delete(oldest.value);
      }
      return clone(NoteSchema, note);
    },
    get: (id) => copy(notes.get(id)),
    delete: (id) => notes.delete(id),
    list: () => [...notes.values()].map((note) => clone(NoteSchema, note)),
    latest: () => copy([...notes.values()].at(-1)),
  };
}
