import * as t from 'io-ts';

// The bodies of the accounts routes: decoded at the edge and published in /docs from these codecs.

const EMAIL_SHAPE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** How an email is stored and compared: trimmed and lowercased. */
export const normalizeEmail = (email: string): string => email.trim().toLowerCase();

const EMAIL_ADDRESS = 'an email address';
interface EmailBrand {
  readonly [EMAIL_ADDRESS]: unique symbol;
}
/** An email address as sent: once normalized, one @, a dot in the domain, no spaces, at most 254 characters. */
export const EmailAddress = t.brand(
  t.string,
  (s): s is t.Branded<string, EmailBrand> => {
    const email = normalizeEmail(s);
    return email.length <= 254 && EMAIL_SHAPE.test(email);
  },
  EMAIL_ADDRESS,
);

export const MIN_PASSWORD_CHARACTERS = 8;
// scrypt is indifferent to length, but a cap keeps a login body from being a megabyte of password.
export const MAX_PASSWORD_BYTES = 1024;

// The brand names double as the "expected ..." of a 400 answer and the description in /docs.
const NEW_PASSWORD = 'a password of at least 8 characters and at most 1024 bytes';
interface NewPasswordBrand {
  readonly [NEW_PASSWORD]: unique symbol;
}
export const NewPassword = t.brand(
  t.string,
  (s): s is t.Branded<string, NewPasswordBrand> => [...s].length >= MIN_PASSWORD_CHARACTERS && Buffer.byteLength(s, 'utf8') <= MAX_PASSWORD_BYTES,
  NEW_PASSWORD,
);

const DEVICE_NAME = 'a device name of 1 to 200 characters';
interface DeviceNameBrand {
  readonly [DEVICE_NAME]: unique symbol;
}
export const DeviceName = t.brand(
  t.string,
  (s): s is t.Branded<string, DeviceNameBrand> => s.trim().length >= 1 && [...s.trim()].length <= 200,
  DEVICE_NAME,
);

export const SignupBody = t.type({ email: EmailAddress, password: NewPassword }, 'SignupBody');
export type SignupBody = t.TypeOf<typeof SignupBody>;

export const SignupAnswer = t.type({ userId: t.string, workspaceId: t.string }, 'SignupAnswer');

// Login takes any strings for email and password: a wrong one is a 401 like any other, so the
// answer never says which rule an existing account's password would have broken.
export const LoginBody = t.type({ email: t.string, password: t.string, deviceName: DeviceName }, 'LoginBody');
export type LoginBody = t.TypeOf<typeof LoginBody>;

export const TokenPair = t.type({ accessToken: t.string, refreshToken: t.string, expiresIn: t.number }, 'TokenPair');

export const LoginAnswer = t.intersection(
  [t.type({ userId: t.string, workspaceId: t.string, deviceId: t.string }), TokenPair],
  'LoginAnswer',
);

export const RefreshBody = t.type({ refreshToken: t.string }, 'RefreshBody');
export type RefreshBody = t.TypeOf<typeof RefreshBody>;

export const Device = t.type(
  { deviceId: t.string, name: t.string, createdAt: t.string, lastSeenAt: t.string, cursor: t.number },
  'Device',
);

export const DevicesAnswer = t.type({ devices: t.array(Device) }, 'DevicesAnswer');

export const DeviceParams = t.type({ deviceId: t.string }, 'DeviceParams');
