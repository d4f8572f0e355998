import { Module } from '@nestjs/common';
import { TrackingModule } from '../tracking/tracking.module';
import { ConnectorsController } from './connectors.controller';
import { ConnectorsService } from './connectors.service';

@Module({ imports: [TrackingModule], controllers: [ConnectorsController], providers: [ConnectorsService] })
export class ConnectorsModule {}
