import { runService } from '@cdp/service-kit';
import { collectionService } from './service';

void runService(collectionService);
