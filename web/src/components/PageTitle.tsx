import { Title, type TitleProps } from '@mantine/core';
import { useEffect } from 'react';

/** The page's one h1, also the document title. */
export function PageTitle({ children, ...props }: TitleProps & { children: string }) {
  useEffect(() => {
    document.title = `${children} · Vigil`;
  }, [children]);
  return (
    <Title order={1} size="h2" mb="md" className="break-anywhere" {...props}>
      {children}
    </Title>
  );
}
