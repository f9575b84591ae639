import { Alert } from '@mantine/core';
import { ApiError, messageOf } from '../api/client';

/** A failed submission's message, read out when it appears. */
export function FormError({ error }: { error: unknown }) {
  if (!error) return null;
  const fields = error instanceof ApiError && error.errors ? Object.entries(error.errors) : [];
  return (
    <Alert color="red" role="alert" className="break-anywhere">
      {messageOf(error)}
      {fields.length > 0 ? (
        <ul style={{ margin: '4px 0 0', paddingLeft: 18 }}>
          {fields.map(([field, text]) => (
            <li key={field}>
              {field}: {text}
            </li>
          ))}
        </ul>
      ) : null}
    </Alert>
  );
}
