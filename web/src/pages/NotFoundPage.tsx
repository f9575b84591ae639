import { Anchor, Text } from '@mantine/core';
import { Link } from 'react-router';
import { PageTitle } from '../components/PageTitle';

export default function NotFoundPage() {
  return (
    <>
      <PageTitle>Page not found</PageTitle>
      <Text>
        There is no page at this address. Go to the{' '}
        <Anchor component={Link} to="/alerts">
          alerts
        </Anchor>
        .
      </Text>
    </>
  );
}
